package flexmoe.kernels.tornado;

import flexmoe.kernels.PerExampleNormKernels;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * TornadoVM launchers for {@link PerExampleNormKernels}. Each form is two tasks, as in the JVM backend: the
 * ghost form one work item per row (its share of its example's Gram sum) then one per example (its shares
 * added in row order); the direct form one work item per output row (that row of every example's gradient,
 * squared) then one per example (its row sums added in order).
 *
 * <p>{@code accumulate} is an int 0/1 (no {@code boolean} launcher parameters, see {@link GemmLaunchers}).
 *
 * <p>These cases found a TornadoVM 5.2.0 mis-compilation: {@code ghostRow} used to start with
 * {@code if (start < 0) { partial[s] = 0f; return; }} (rows outside every example). In the generated OpenCL
 * the normal path stored its share and then fell through into the early-return block, which stored 0 over
 * it, so every share and every ghost norm came back 0 (max diff 69 here) while the direct form, with no
 * early return, matched. The body now has one exit and one store. {@code CrossEntropyKernels.backwardRow}'s
 * early return (after a loop over the row) compiled correctly, so the pattern is not always wrong, but a
 * single exit is the safe form.
 */
public final class PerExampleNormLaunchers {

    private PerExampleNormLaunchers() {
    }

    /** {@code partial[s]} for every row {@code s < rows}. */
    public static void ghostNormRows(float[] a, int aOff, float[] g, int gOff, int[] seg, int examples, int din,
                                     int dout, int rows, float[] partial) {
        for (@Parallel int s = 0; s < rows; s++) {
            PerExampleNormKernels.ghostRow(s, a, aOff, g, gOff, seg, examples, din, dout, partial);
        }
    }

    /** {@code norm2[i] (+)=} the shares of example {@code i}. */
    public static void ghostNormSegmentSums(float[] partial, int[] seg, int examples, float[] norm2,
                                            int accumulate) {
        for (@Parallel int i = 0; i < examples; i++) {
            PerExampleNormKernels.segmentSum(i, partial, seg, norm2, accumulate != 0);
        }
    }

    /** Row {@code o} of every example's gradient, for every {@code o < dout}. */
    public static void directNormRows(float[] a, int aOff, float[] g, int gOff, int[] seg, int examples, int din,
                                      int dout, float[] scratch) {
        for (@Parallel int o = 0; o < dout; o++) {
            PerExampleNormKernels.directRow(o, a, aOff, g, gOff, seg, examples, din, dout, scratch);
        }
    }

    /** {@code norm2[i] (+)=} the row sums of example {@code i}. */
    public static void directNormReduces(float[] scratch, int examples, int din, int dout, float[] norm2,
                                         int accumulate) {
        for (@Parallel int i = 0; i < examples; i++) {
            PerExampleNormKernels.directReduce(i, scratch, din, dout, norm2, accumulate != 0);
        }
    }

    // Odd sizes and offsets. Rows 0-1 and 21-22 belong to no example, example 1 is empty, example 3 has one
    // row. dout = 1 is the router row of an expert.
    private static final int ROWS = 23, DIN = 13, DOUT = 7, A_OFF = 3, G_OFF = 5;
    private static final int[] SEG = {2, 7, 7, 15, 16, 21};
    private static final int EXAMPLES = SEG.length - 1;

    // Tolerance 1e-4. Every sum runs in the same order on both sides, but the generated code contracts the
    // dot products, the gradient rows (scratch += g * a) and aa * gg + 2 cross into fma (Java never
    // contracts): about an ulp per term. Values: a and g in [-1, 1); an 8-row example's norm2 is ~T din dout / 9
    // ~ 80, and the accumulate cases add a start value in [-100, 100): norms up to ~200 (ulp 1.5e-5), so a
    // few ulps is 1e-4. Measured on PoCL: 7.6e-6 (one ulp of a norm in [64, 128)). A lost or doubled row
    // changes a norm by its share (its diagonal term alone is ~10, ~1.4 for the router row).
    private static final double TOL = 1e-4;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        for (int dout : new int[] {DOUT, 1}) {
            String suffix = dout == 1 ? ".router" : "";
            for (int accumulate = 0; accumulate <= 1; accumulate++) {
                int acc = accumulate;
                String accSuffix = acc == 0 ? "" : ".acc";
                cases.add(new DeviceCase("pen.ghostRow+segmentSum" + suffix + accSuffix, TOL, in -> {
                    float[] a = in.floats(A_OFF + ROWS * DIN);
                    float[] g = in.floats(G_OFF + ROWS * dout);
                    int[] seg = in.holder(SEG);
                    float[] partial = in.floats(ROWS);
                    return List.of(
                            TaskPackage.createPackage("ghostRows", PerExampleNormLaunchers::ghostNormRows,
                                    a, A_OFF, g, G_OFF, seg, EXAMPLES, DIN, dout, ROWS, partial),
                            TaskPackage.createPackage("segmentSums", PerExampleNormLaunchers::ghostNormSegmentSums,
                                    partial, seg, EXAMPLES, in.floats(EXAMPLES, 100), acc));
                }));
                cases.add(new DeviceCase("pen.directRow+directReduce" + suffix + accSuffix, TOL, in -> {
                    float[] a = in.floats(A_OFF + ROWS * DIN);
                    float[] g = in.floats(G_OFF + ROWS * dout);
                    int[] seg = in.holder(SEG);
                    float[] scratch = in.floats(dout * DIN + EXAMPLES * dout);
                    return List.of(
                            TaskPackage.createPackage("directRows", PerExampleNormLaunchers::directNormRows,
                                    a, A_OFF, g, G_OFF, seg, EXAMPLES, DIN, dout, scratch),
                            TaskPackage.createPackage("directReduces", PerExampleNormLaunchers::directNormReduces,
                                    scratch, EXAMPLES, DIN, dout, in.floats(EXAMPLES, 100), acc));
                }));
            }
        }
        return cases;
    }
}
