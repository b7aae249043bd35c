package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** AdamW against a float64 transcription of PyTorch's algorithm, over several steps. */
class AdamWTest {

    /** PyTorch AdamW (decoupled decay applied first), in double. Updates p, m, v in place. */
    static void reference(double[] p, double[] g, double[] m, double[] v, double lr, double b1, double b2, double eps,
                          double wd, long step) {
        double bc1 = 1 - Math.pow(b1, step);
        double bc2 = 1 - Math.pow(b2, step);
        for (int i = 0; i < p.length; i++) {
            p[i] *= 1 - lr * wd;
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double mhat = m[i] / bc1;
            double vhat = v[i] / bc2;
            p[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
        }
    }

    @ParameterizedTest
    // Large lr*wd and eps rows make a wrong decay order (after the update) or a wrong eps placement
    // (inside the bias-corrected sqrt) visible above float rounding.
    @CsvSource({"0.9, 0.95, 0.1, 3e-3, 1e-8", "0.9, 0.999, 0.0, 3e-3, 1e-8", "0.3, 0.95, 0.01, 3e-3, 1e-8",
                "0.9, 0.95, 0.5, 0.05, 1e-8", "0.9, 0.95, 0.1, 3e-3, 0.05"})
    void matchesFloat64ReferenceOverSeveralSteps(double b1, double b2, double wd, double lr, double eps) {
        SplittableRandom rng = new SplittableRandom(17);
        int[] sizes = {1, 15, 17, 1000, 40_001};
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int n : sizes) {
                int off = 3;
                float[] p = uniform(rng, off + n, 1);
                float[] m = new float[off + n];
                float[] v = new float[off + n];
                double[] rp = new double[n], rm = new double[n], rv = new double[n];
                for (int i = 0; i < n; i++) {
                    rp[i] = p[off + i];
                }
                float[] hyper = new float[AdamWKernels.HYPER_SIZE];
                for (int step = 1; step <= 6; step++) {
                    float[] g = uniform(rng, off + n, 0.5);
                    g[off] = 0f;   // a coordinate without gradient still decays and keeps its momentum
                    double[] rg = new double[n];
                    for (int i = 0; i < n; i++) {
                        rg[i] = g[off + i];
                    }
                    TrainingOps.adamwHyper(hyper, lr, b1, b2, eps, wd, step);
                    backend.training().adamwStep(p, g, m, v, off, n, hyper);
                    reference(rp, rg, rm, rv, lr, b1, b2, eps, wd, step);
                    String what = "n " + n + " step " + step + " b1 " + b1 + " wd " + wd + " lr " + lr + " eps " + eps;
                    assertClose("m " + what, m, off, rm, 0, n, 1e-7, 1e-5);
                    assertClose("v " + what, v, off, rv, 0, n, 1e-9, 1e-5);
                    // The update is ~lr per step; allow float rounding of p plus 1e-4 of an update.
                    assertClose("p " + what, p, off, rp, 0, n, 3e-7, 1e-6);
                }
            }
        }
    }

    @Test
    void zeroGradientWithoutDecayLeavesParametersBitIdentical() {
        SplittableRandom rng = new SplittableRandom(2);
        int n = 50_000;
        float[] p = uniform(rng, n, 3);
        p[0] = -0f;
        p[1] = 0f;
        p[2] = Float.MIN_VALUE;
        p[3] = -Float.MAX_VALUE;
        p[4] = 1e-30f;
        float[] before = p.clone();
        float[] g = new float[n];
        float[] m = new float[n];
        float[] v = new float[n];
        float[] hyper = new float[AdamWKernels.HYPER_SIZE];
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int step = 1; step <= 10; step++) {
                TrainingOps.adamwHyper(hyper, 1e-3, 0.9, 0.95, 1e-8, 0.0, step);
                backend.training().adamwStep(p, g, m, v, 0, n, hyper);
            }
        }
        assertBitsEqual("frozen params", p, before);
        assertBitsEqual("m", m, new float[n]);
        assertBitsEqual("v", v, new float[n]);
    }

    @Test
    void hyperHolderFollowsPyTorchScalars() {
        float[] h = new float[AdamWKernels.HYPER_SIZE];
        TrainingOps.adamwHyper(h, 2e-3, 0.9, 0.95, 1e-8, 0.1, 3);
        assertThat(h[AdamWKernels.ONE_MINUS_BETA1]).isEqualTo((float) (1 - 0.9));
        assertThat(h[AdamWKernels.BETA2]).isEqualTo(0.95f);
        assertThat(h[AdamWKernels.ONE_MINUS_BETA2]).isEqualTo((float) (1 - 0.95));
        assertThat(h[AdamWKernels.EPS]).isEqualTo(1e-8f);
        assertThat(h[AdamWKernels.DECAY]).isEqualTo((float) (1 - 2e-3 * 0.1));
        assertThat(h[AdamWKernels.STEP_SIZE]).isEqualTo((float) (2e-3 / (1 - 0.9 * 0.9 * 0.9)));
        assertThat(h[AdamWKernels.BC2_SQRT]).isEqualTo((float) Math.sqrt(1 - Math.pow(0.95, 3)));
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(9);
        int n = 100_003;
        float[] p0 = uniform(rng, n, 1);
        float[][] grads = {uniform(rng, n, 1), uniform(rng, n, 1), uniform(rng, n, 1)};
        float[][] results = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            float[] p = p0.clone();
            float[] m = new float[n];
            float[] v = new float[n];
            float[] hyper = new float[AdamWKernels.HYPER_SIZE];
            try (Backend backend = Backends.create("jvm", threads)) {
                for (int step = 1; step <= grads.length; step++) {
                    TrainingOps.adamwHyper(hyper, 1e-2, 0.9, 0.95, 1e-8, 0.1, step);
                    backend.training().adamwStep(p, grads[step - 1], m, v, 0, n, hyper);
                }
            }
            results[threads - 1] = p;
        }
        assertBitsEqual("params", results[1], results[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        float[] p = {1f, 2f, 3f};
        float[] m = {0.1f, 0.2f, 0.3f};
        float[] v = {0.01f, 0.02f, 0.03f};
        float[] g = {1f, 1f, 1f};
        float[] hyper = new float[AdamWKernels.HYPER_SIZE];
        TrainingOps.adamwHyper(hyper, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1);
        try (Backend backend = Backends.create("jvm", 1)) {
            TrainingOps ops = backend.training();
            assertThatThrownBy(() -> ops.adamwStep(p, g, m, v, 1, 3, hyper))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("adamwStep: param too short: need 3 elements from offset 1, has 3");
            assertThatThrownBy(() -> ops.adamwStep(p, g, m, new float[2], 0, 3, hyper))
                    .hasMessage("adamwStep: v too short: need 3 elements from offset 0, has 2");
            assertThatThrownBy(() -> ops.adamwStep(p, g, m, v, 0, 0, hyper))
                    .hasMessage("adamwStep: n must be at least 1, got 0");
            assertThatThrownBy(() -> ops.adamwStep(p, g, m, v, 0, 3, new float[6]))
                    .hasMessage("adamwStep: hyper too short: need 7 elements from offset 0, has 6");
            assertThatThrownBy(() -> ops.adamwStep(p, g, m, m, 0, 3, hyper))
                    .hasMessage("adamwStep: param, grad, m and v must be four different arrays");
        }
        assertThat(p).containsExactly(1f, 2f, 3f);
        assertThat(m).containsExactly(0.1f, 0.2f, 0.3f);
        assertThat(v).containsExactly(0.01f, 0.02f, 0.03f);

        assertThatThrownBy(() -> TrainingOps.adamwHyper(hyper, 1e-3, 0.9, 0.95, 1e-8, 0.1, 0))
                .hasMessage("adamwHyper: step must be at least 1, got 0");
        assertThatThrownBy(() -> TrainingOps.adamwHyper(hyper, 1e-3, 1.0, 0.95, 1e-8, 0.1, 1))
                .hasMessage("adamwHyper: beta1 must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> TrainingOps.adamwHyper(hyper, -1e-3, 0.9, 0.95, 1e-8, 0.1, 1))
                .hasMessage("adamwHyper: lr must be finite and non-negative, got -0.001");
        assertThatThrownBy(() -> TrainingOps.adamwHyper(new float[3], 1e-3, 0.9, 0.95, 1e-8, 0.1, 1))
                .hasMessage("adamwHyper: hyper too short: need 7 elements from offset 0, has 3");
    }
}
