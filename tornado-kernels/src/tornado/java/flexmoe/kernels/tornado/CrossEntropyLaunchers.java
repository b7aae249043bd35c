package flexmoe.kernels.tornado;

import flexmoe.kernels.CrossEntropyKernels;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * TornadoVM launchers for {@link CrossEntropyKernels}: one work item per token row (the row's max, exp sum
 * and gradient are sequential over the vocabulary inside the work item, as in the JVM backend).
 */
public final class CrossEntropyLaunchers {

    private CrossEntropyLaunchers() {
    }

    /** {@code loss[t], lse[t]} for every token; logits [tokens, vocab]. */
    public static void crossEntropyForward(float[] logits, int[] targets, int tokens, int vocab,
                                           float zLossWeight, float[] loss, float[] lse) {
        for (@Parallel int t = 0; t < tokens; t++) {
            CrossEntropyKernels.forwardRow(t, logits, targets, vocab, zLossWeight, loss, lse);
        }
    }

    /** {@code dlogits [tokens, vocab]} from the logits and the forward's lse. */
    public static void crossEntropyBackward(float[] logits, int[] targets, float[] lse, int tokens, int vocab,
                                            float zLossWeight, float[] scale, float[] dlogits) {
        for (@Parallel int t = 0; t < tokens; t++) {
            CrossEntropyKernels.backwardRow(t, logits, targets, lse, vocab, zLossWeight, scale, dlogits);
        }
    }

    /**
     * The in-place backward: the logits are overwritten by their gradient. A separate launcher rather than
     * passing one array twice to {@link #crossEntropyBackward}: the body sees the same buffer either
     * way, and a task graph then holds each array once.
     */
    public static void crossEntropyBackwardInPlace(float[] logits, int[] targets, float[] lse, int tokens,
                                                   int vocab, float zLossWeight, float[] scale) {
        for (@Parallel int t = 0; t < tokens; t++) {
            CrossEntropyKernels.backwardRow(t, logits, targets, lse, vocab, zLossWeight, scale, logits);
        }
    }

    // Odd sizes; a z-loss weight large enough that its term (zw * lse² ~ 0.07 here) is visible in the loss and
    // the gradient; targets at both ends of the vocabulary and ignored (-1) rows.
    private static final int T = 13, V = 301;
    private static final float ZW = 1e-3f;

    // Tolerance 2e-5 for every case. Both sides run the same float operations in the same order, but the
    // device's exp/log are OpenCL double-precision exp/log (the bodies' (float) Math.exp/log, PERF.md rule 4)
    // where the JVM uses its own (both within 1 ulp, not necessarily equal), and the compiler contracts
    // a * b + c into fma (the z-loss term, the gradient's 1 + 2 zw lse; Java never contracts). A few ulps of
    // the largest value: lse and loss reach ~37 on the +30 row (ulp 3.8e-6), gradients are below 1.
    // Measured on PoCL: 1.4e-6 (forward), 1e-6 (backward). A real bug (wrong row or target, a missed max
    // subtraction, an ignored row with a gradient) is off by 1e-3 or more.
    private static final double TOL = 2e-5;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        cases.add(DeviceCase.of("ce.forwardRow", TOL, in -> TaskPackage.createPackage("ceForward",
                CrossEntropyLaunchers::crossEntropyForward, logits(in), targets(in), T, V, ZW, in.floats(T),
                in.floats(T))));
        // The backward needs the lse of the same logits: the forward runs first in the same graph.
        cases.add(new DeviceCase("ce.forwardRow+backwardRow", TOL, in -> {
            float[] logits = logits(in);
            int[] targets = targets(in);
            float[] lse = in.floats(T);
            return List.of(
                    TaskPackage.createPackage("ceForward", CrossEntropyLaunchers::crossEntropyForward,
                            logits, targets, T, V, ZW, in.floats(T), lse),
                    TaskPackage.createPackage("ceBackward", CrossEntropyLaunchers::crossEntropyBackward,
                            logits, targets, lse, T, V, ZW, in.holder(1f / validTokens(targets)), in.floats(T * V)));
        }));
        cases.add(new DeviceCase("ce.forwardRow+backwardRow.inPlace", TOL, in -> {
            float[] logits = logits(in);
            int[] targets = targets(in);
            float[] lse = in.floats(T);
            return List.of(
                    TaskPackage.createPackage("ceForward", CrossEntropyLaunchers::crossEntropyForward,
                            logits, targets, T, V, ZW, in.floats(T), lse),
                    TaskPackage.createPackage("ceBackwardInPlace", CrossEntropyLaunchers::crossEntropyBackwardInPlace,
                            logits, targets, lse, T, V, ZW, in.holder(1f / validTokens(targets))));
        }));
        return cases;
    }

    /** Logits in [-4, 4), and row 1 shifted by +30 (an offset an unshifted exp sum would feel). */
    private static float[] logits(DeviceCase.Inputs in) {
        float[] x = in.floats(T * V, 4);
        for (int j = 0; j < V; j++) {
            x[V + j] += 30f;
        }
        return x;
    }

    /** Random targets, with the first and last vocabulary ids and three ignored rows (the last row among them). */
    private static int[] targets(DeviceCase.Inputs in) {
        int[] y = in.ints(T, V);
        y[0] = 0;
        y[1] = V - 1;
        y[4] = CrossEntropyKernels.IGNORE;
        y[7] = CrossEntropyKernels.IGNORE;
        y[T - 1] = CrossEntropyKernels.IGNORE;
        return y;
    }

    private static int validTokens(int[] targets) {
        int valid = 0;
        for (int y : targets) {
            valid += y == CrossEntropyKernels.IGNORE ? 0 : 1;
        }
        return valid;
    }
}
