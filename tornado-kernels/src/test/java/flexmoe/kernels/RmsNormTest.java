package flexmoe.kernels;

import static flexmoe.kernels.TransformerTesting.assertRejected;
import static flexmoe.kernels.TransformerTesting.padded;
import static flexmoe.kernels.TransformerTesting.slice;
import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.dot;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RMSNorm forward (y, rstd) and backward (dx, dw) against float64 references and finite differences. */
class RmsNormTest {

    /** {rows, dim}: tiny, odd, not multiples of 16. */
    private static final int[][] SHAPES = {{1, 1}, {1, 5}, {3, 7}, {5, 17}, {2, 64}, {9, 33}};
    private static final float EPS = 1e-5f;

    /** Returns y [rows*dim] followed by rstd [rows]. */
    static double[] reference(double[] x, double[] w, int rows, int dim, double eps) {
        double[] r = new double[rows * dim + rows];
        for (int t = 0; t < rows; t++) {
            double ss = 0;
            for (int c = 0; c < dim; c++) {
                ss += x[t * dim + c] * x[t * dim + c];
            }
            double rstd = 1 / Math.sqrt(ss / dim + eps);
            for (int c = 0; c < dim; c++) {
                r[t * dim + c] = x[t * dim + c] * rstd * w[c];
            }
            r[rows * dim + t] = rstd;
        }
        return r;
    }

    static double[] y(double[] x, double[] w, int rows, int dim) {
        return java.util.Arrays.copyOf(reference(x, w, rows, dim, EPS), rows * dim);
    }

    @Test
    void forwardMatchesFloat64Reference() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int rows = s[0], dim = s[1];
                float[] x = padded(uniform(rng, rows * dim, 2), 3);
                float[] w = padded(uniform(rng, dim, 1.5), 1);
                float[] y = poisoned(2 + rows * dim);
                float[] rstd = poisoned(4 + rows);
                backend.transformer().rmsnormForward(x, 3, w, 1, y, 2, rstd, 4, rows, dim, EPS);
                double[] expected = reference(slice(x, 3, rows * dim), slice(w, 1, dim), rows, dim, EPS);
                String what = rows + "x" + dim;
                assertClose("y " + what, y, 2, expected, 0, rows * dim, 1e-6, 1e-5);
                assertClose("rstd " + what, rstd, 4, expected, rows * dim, rows, 1e-6, 1e-5);

                float[] inPlace = x.clone();
                backend.transformer().rmsnormForward(inPlace, 3, w, 1, inPlace, 3, rstd, 4, rows, dim, EPS);
                for (int i = 0; i < rows * dim; i++) {
                    org.assertj.core.api.Assertions.assertThat(Float.floatToRawIntBits(inPlace[3 + i]))
                            .as("in place %s element %d", what, i).isEqualTo(Float.floatToRawIntBits(y[2 + i]));
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesForXAndW() {
        SplittableRandom rng = new SplittableRandom(2);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int rows = s[0], dim = s[1];
                int n = rows * dim;
                float[] x = padded(uniform(rng, n, 2), 1);
                float[] w = padded(uniform(rng, dim, 1.5), 2);
                float[] dy = padded(uniform(rng, n, 1), 3);
                float[] y = poisoned(n);
                float[] rstd = poisoned(rows);
                backend.transformer().rmsnormForward(x, 1, w, 2, y, 0, rstd, 0, rows, dim, EPS);
                float[] dx = poisoned(5 + n);
                float[] dw = padded(uniform(rng, dim, 1), 4);
                double[] dw0 = slice(dw, 4, dim);
                backend.transformer().rmsnormBackward(x, 1, w, 2, rstd, 0, dy, 3, dx, 5, dw, 4, rows, dim);

                double[] xd = slice(x, 1, n), wd = slice(w, 2, dim), g = slice(dy, 3, n);
                double[] dxExpected = centralDifference(v -> dot(y(v, wd, rows, dim), g), xd, 1e-6);
                double[] dwExpected = centralDifference(v -> dot(y(xd, v, rows, dim), g), wd, 1e-6);
                for (int c = 0; c < dim; c++) {
                    dwExpected[c] += dw0[c];
                }
                String what = rows + "x" + dim;
                assertClose("dx " + what, dx, 5, dxExpected, 0, n, 2e-5, 1e-4);
                assertClose("dw " + what, dw, 4, dwExpected, 0, dim, 2e-5, 1e-4);
            }
        }
    }

    @Test
    void weightGradColumnBlockWidthDoesNotChangeTheBits() {
        SplittableRandom rng = new SplittableRandom(5);
        int rows = 50, dim = 37;
        float[] x = uniform(rng, rows * dim, 1);
        float[] rstd = uniform(rng, rows, 1);
        float[] dy = uniform(rng, rows * dim, 1);
        float[] perColumn = new float[dim], blocked = new float[dim];
        for (int c = 0; c < dim; c++) {
            RmsNormKernels.rmsnormWeightGradColumns(c, x, 0, rstd, 0, dy, 0, perColumn, 0, rows, dim, 1);
        }
        for (int blk = 0; blk < 3; blk++) {
            RmsNormKernels.rmsnormWeightGradColumns(blk, x, 0, rstd, 0, dy, 0, blocked, 0, rows, dim, 16);
        }
        assertBitsEqual("width 1 vs 16", blocked, perColumn);
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(3);
        int rows = 1500, dim = 150;
        float[] x = uniform(rng, rows * dim, 2);
        float[] w = uniform(rng, dim, 1);
        float[] dy = uniform(rng, rows * dim, 1);
        float[][] results = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            float[] y = poisoned(rows * dim), rstd = poisoned(rows), dx = poisoned(rows * dim);
            float[] dw = new float[dim];
            try (Backend backend = Backends.create("jvm", threads)) {
                backend.transformer().rmsnormForward(x, 0, w, 0, y, 0, rstd, 0, rows, dim, EPS);
                backend.transformer().rmsnormBackward(x, 0, w, 0, rstd, 0, dy, 0, dx, 0, dw, 0, rows, dim);
            }
            float[] all = new float[2 * rows * dim + rows + dim];
            System.arraycopy(y, 0, all, 0, rows * dim);
            System.arraycopy(rstd, 0, all, rows * dim, rows);
            System.arraycopy(dx, 0, all, rows * dim + rows, rows * dim);
            System.arraycopy(dw, 0, all, 2 * rows * dim + rows, dim);
            results[threads - 1] = all;
        }
        assertBitsEqual("rmsnorm y|rstd|dx|dw", results[1], results[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            float[] x = new float[12], w = new float[4];
            float[] y = poisoned(12), rstd = poisoned(3);
            assertRejected(() -> ops.rmsnormForward(x, 0, w, 0, y, 0, rstd, 0, 3, 5, EPS),
                    "rmsnormForward: x too short: need 15 elements from offset 0, has 12", y, rstd);
            assertRejected(() -> ops.rmsnormForward(x, 0, w, 1, y, 0, rstd, 0, 3, 4, EPS),
                    "rmsnormForward: w too short: need 4 elements from offset 1, has 4", y, rstd);
            assertRejected(() -> ops.rmsnormForward(x, 0, w, 0, y, 0, rstd, 1, 3, 4, EPS),
                    "rmsnormForward: rstd too short: need 3 elements from offset 1, has 3", y, rstd);
            assertRejected(() -> ops.rmsnormForward(x, 0, w, 0, y, 0, rstd, 0, 3, 0, EPS),
                    "rmsnormForward: dim must be at least 1, got 0", y, rstd);
            assertRejected(() -> ops.rmsnormForward(x, 0, w, 0, y, 0, rstd, 0, 3, 4, Float.NaN),
                    "rmsnormForward: eps must be finite and non-negative, got NaN", y, rstd);
            float[] big = poisoned(20);
            assertRejected(() -> ops.rmsnormForward(big, 0, w, 0, y, 0, big, 4, 2, 4, EPS),
                    "rmsnormForward: rstd overlaps x", y, big);
            assertRejected(() -> ops.rmsnormForward(big, 0, w, 0, big, 4, rstd, 0, 2, 4, EPS),
                    "rmsnormForward: y partially overlaps x (in place needs the same offset)", big, rstd);
            assertRejected(() -> ops.rmsnormForward(x, 0, w, 0, big, 0, big, 6, 2, 4, EPS),
                    "rmsnormForward: rstd overlaps y", big);

            float[] dx = poisoned(12), dw = poisoned(4);
            assertRejected(() -> ops.rmsnormBackward(x, 0, w, 0, new float[3], 0, new float[11], 0, dx, 0, dw, 0,
                    3, 4), "rmsnormBackward: dy too short: need 12 elements from offset 0, has 11", dx, dw);
            assertRejected(() -> ops.rmsnormBackward(x, 0, w, 0, new float[3], 0, dx, 0, dx, 0, dw, 0, 3, 4),
                    "rmsnormBackward: dx overlaps dy", dx, dw);
            assertRejected(() -> ops.rmsnormBackward(x, 0, w, 0, new float[3], 0, new float[12], 0, dx, 0, dx, 8,
                    3, 4), "rmsnormBackward: dw overlaps dx", dx, dw);
        }
    }
}
