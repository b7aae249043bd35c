package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Global gradient norm (fixed-chunk partial sums) and clip_grad_norm_ semantics. */
class GradNormTest {

    static double refSquares(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) x[off + i] * x[off + i];
        }
        return s;
    }

    @Test
    void sumSquaresMatchesFloat64Reference() {
        SplittableRandom rng = new SplittableRandom(1);
        int[] sizes = {0, 1, 15, 17, GradNormKernels.CHUNK - 1, GradNormKernels.CHUNK, GradNormKernels.CHUNK + 1, 30_011};
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int n : sizes) {
                int off = 5;
                float[] x = uniform(rng, off + n + 2, 2);
                double expected = refSquares(x, off, n);
                assertThat(backend.training().sumSquares(x, off, n)).as("n " + n)
                        .isCloseTo(expected, within(1e-5 * expected + 1e-30));
            }
        }
    }

    @Test
    void chunkBodyWritesEveryPartial() {
        SplittableRandom rng = new SplittableRandom(12);
        int n = 3 * GradNormKernels.CHUNK + 7;
        float[] x = uniform(rng, n, 1);
        int chunks = GradNormKernels.chunks(n);
        float[] partial = poisoned(chunks);
        for (int c = 0; c < chunks; c++) {
            GradNormKernels.sumSquaresChunk(c, x, 0, n, partial);
        }
        double[] expected = new double[chunks];
        for (int c = 0; c < chunks; c++) {
            int start = c * GradNormKernels.CHUNK;
            expected[c] = refSquares(x, start, Math.min(n, start + GradNormKernels.CHUNK) - start);
        }
        assertClose("partials", partial, expected, 0, 1e-5);
    }

    @Test
    void globalNormOverSeveralArrays() {
        SplittableRandom rng = new SplittableRandom(4);
        float[][] grads = {uniform(rng, 1, 1), new float[0], uniform(rng, 4097, 0.1), uniform(rng, 33, 10)};
        double expected = 0;
        for (float[] g : grads) {
            expected += refSquares(g, 0, g.length);
        }
        try (Backend backend = Backends.create("jvm", 2)) {
            assertThat(backend.training().globalNorm(grads)).isCloseTo(Math.sqrt(expected),
                    within(1e-6 * Math.sqrt(expected)));
            assertThat(backend.training().globalNorm(new float[0][])).isEqualTo(0.0);
        }
    }

    @Test
    void clipFactorFollowsClipGradNorm() {
        assertThat(TrainingOps.clipFactor(0, 1)).isEqualTo(1f);
        assertThat(TrainingOps.clipFactor(0.5, 1)).isEqualTo(1f);
        assertThat(TrainingOps.clipFactor(4, 1)).isEqualTo((float) (1 / (4 + 1e-6)));
        // A norm equal to maxNorm still scales by a hair, as in PyTorch.
        assertThat(TrainingOps.clipFactor(1, 1)).isEqualTo((float) (1 / (1 + 1e-6))).isLessThan(1f);
        assertThat(TrainingOps.clipFactor(Double.POSITIVE_INFINITY, 1)).isEqualTo(0f);
        assertThat(TrainingOps.clipFactor(Double.NaN, 1)).isNaN();
    }

    @Test
    void clipScalesAboveMaxNormAndLeavesBitsBelow() {
        SplittableRandom rng = new SplittableRandom(8);
        float[][] grads = {uniform(rng, 5000, 1), uniform(rng, 17, 1)};
        float[][] original = {grads[0].clone(), grads[1].clone()};
        double norm = Math.sqrt(refSquares(grads[0], 0, 5000) + refSquares(grads[1], 0, 17));
        try (Backend backend = Backends.create("jvm", 2)) {
            TrainingOps ops = backend.training();
            double returned = ops.clipGradNorm(grads, 2 * norm);
            assertThat(returned).isCloseTo(norm, within(1e-6 * norm));
            assertBitsEqual("below maxNorm", grads[0], original[0]);
            assertBitsEqual("below maxNorm", grads[1], original[1]);

            double maxNorm = 1.0;
            returned = ops.clipGradNorm(grads, maxNorm);
            float f = TrainingOps.clipFactor(returned, maxNorm);
            for (int a = 0; a < 2; a++) {
                float[] expected = new float[original[a].length];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = original[a][i] * f;
                }
                assertBitsEqual("clipped " + a, grads[a], expected);
            }
            assertThat(ops.globalNorm(grads)).isCloseTo(maxNorm, within(1e-5));
        }
    }

    @Test
    void scaleWritesEveryElementInRange() {
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = uniform(rng, 40_000, 1);
        float[] expected = x.clone();
        for (int i = 7; i < 7 + 39_990; i++) {
            expected[i] = x[i] * 0.3f;
        }
        try (Backend backend = Backends.create("jvm", 2)) {
            backend.training().scale(x, 7, 39_990, new float[] {0.3f});
        }
        assertBitsEqual("scaled", x, expected);
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(5);
        float[][] grads = {uniform(rng, 1_000_003, 1), uniform(rng, 70_001, 3)};
        double[] norms = new double[2];
        float[][][] clipped = new float[2][][];
        for (int threads = 1; threads <= 2; threads++) {
            float[][] copy = {grads[0].clone(), grads[1].clone()};
            try (Backend backend = Backends.create("jvm", threads)) {
                norms[threads - 1] = backend.training().clipGradNorm(copy, 1.0);
            }
            clipped[threads - 1] = copy;
        }
        assertThat(Double.doubleToRawLongBits(norms[1])).isEqualTo(Double.doubleToRawLongBits(norms[0]));
        assertBitsEqual("clipped 0", clipped[1][0], clipped[0][0]);
        assertBitsEqual("clipped 1", clipped[1][1], clipped[0][1]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        float[] x = poisoned(4);
        try (Backend backend = Backends.create("jvm", 1)) {
            TrainingOps ops = backend.training();
            assertThatThrownBy(() -> ops.globalNorm(new float[][] {x, null}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("globalNorm: grads[1] is null");
            assertThatThrownBy(() -> ops.clipGradNorm(null, 1.0))
                    .hasMessage("clipGradNorm: grads is null");
            assertThatThrownBy(() -> ops.clipGradNorm(new float[][] {x}, 0.0))
                    .hasMessage("clipGradNorm: maxNorm must be finite and positive, got 0.0");
            assertThatThrownBy(() -> ops.sumSquares(x, 2, 3))
                    .hasMessage("sumSquares: x too short: need 3 elements from offset 2, has 4");
            assertThatThrownBy(() -> ops.scale(x, 0, 4, new float[0]))
                    .hasMessage("scale: factor too short: need 1 elements from offset 0, has 0");
            assertThatThrownBy(() -> ops.scale(x, -1, 2, new float[] {1f}))
                    .hasMessage("scale: x offset must be non-negative, got -1");
        }
        for (float v : x) {
            assertThat(v).isNaN();
        }
    }
}
