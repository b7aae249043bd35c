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

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Row softmax forward/backward against float64 references and finite differences. */
class SoftmaxTest {

    /** {rows, cols}: a single column (softmax = 1), tiny, odd, not multiples of 16. */
    private static final int[][] SHAPES = {{1, 1}, {3, 1}, {1, 7}, {4, 17}, {9, 33}, {2, 64}};

    static double[] reference(double[] x, int rows, int cols) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[r * cols + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(x[r * cols + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = Math.exp(x[r * cols + c] - max) / sum;
            }
        }
        return y;
    }

    @Test
    void forwardMatchesFloat64ReferenceEvenForLargeLogits() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (float shift : new float[] {0f, 1000f, -1000f}) {
                for (int[] s : SHAPES) {
                    int rows = s[0], cols = s[1], n = rows * cols;
                    float[] x = padded(uniform(rng, n, 8), 2);
                    for (int i = 2; i < x.length; i++) {
                        x[i] += shift;
                    }
                    float[] y = poisoned(3 + n);
                    backend.transformer().softmaxForward(x, 2, y, 3, rows, cols);
                    String what = "shift " + shift + " " + rows + "x" + cols;
                    // The float inputs near +-1000 only carry ~6e-5 absolute precision, the reference sees
                    // the same rounded values, so the comparison stays tight.
                    assertClose(what, y, 3, reference(slice(x, 2, n), rows, cols), 0, n, 1e-6, 1e-5);

                    backend.transformer().softmaxForward(x, 2, x, 2, rows, cols);
                    assertBitsEqual("in place " + what, Arrays.copyOfRange(x, 2, 2 + n),
                            Arrays.copyOfRange(y, 3, 3 + n));
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(2);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int rows = s[0], cols = s[1], n = rows * cols;
                float[] x = uniform(rng, n, 3);
                float[] y = poisoned(1 + n);
                backend.transformer().softmaxForward(x, 0, y, 1, rows, cols);
                float[] dy = padded(uniform(rng, n, 1), 2);
                float[] dx = poisoned(3 + n);
                backend.transformer().softmaxBackward(y, 1, dy, 2, dx, 3, rows, cols);
                double[] g = slice(dy, 2, n);
                double[] expected = centralDifference(v -> dot(reference(v, rows, cols), g), slice(x, 0, n), 1e-6);
                String what = rows + "x" + cols;
                assertClose("dx " + what, dx, 3, expected, 0, n, 2e-6, 1e-4);

                backend.transformer().softmaxBackward(y, 1, dy, 2, dy, 2, rows, cols);
                assertBitsEqual("in place on dy " + what, Arrays.copyOfRange(dy, 2, 2 + n),
                        Arrays.copyOfRange(dx, 3, 3 + n));
            }
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(3);
        int rows = 700, cols = 301, n = rows * cols;
        float[] x = uniform(rng, n, 5), dy = uniform(rng, n, 1);
        float[][] y = new float[2][], dx = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            y[threads - 1] = poisoned(n);
            dx[threads - 1] = poisoned(n);
            try (Backend backend = Backends.create("jvm", threads)) {
                backend.transformer().softmaxForward(x, 0, y[threads - 1], 0, rows, cols);
                backend.transformer().softmaxBackward(y[threads - 1], 0, dy, 0, dx[threads - 1], 0, rows, cols);
            }
        }
        assertBitsEqual("softmaxForward", y[1], y[0]);
        assertBitsEqual("softmaxBackward", dx[1], dx[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            float[] y = poisoned(12), dx = poisoned(12);
            assertRejected(() -> ops.softmaxForward(new float[11], 0, y, 0, 3, 4),
                    "softmaxForward: x too short: need 12 elements from offset 0, has 11", y);
            assertRejected(() -> ops.softmaxForward(new float[12], 0, y, 0, 3, 0),
                    "softmaxForward: cols must be at least 1, got 0", y);
            assertRejected(() -> ops.softmaxForward(y, 1, y, 0, 2, 4),
                    "softmaxForward: y partially overlaps x (in place needs the same offset)", y);
            assertRejected(() -> ops.softmaxForward(null, 0, y, 0, 3, 4), "softmaxForward: x is null", y);
            assertRejected(() -> ops.softmaxBackward(new float[12], 0, new float[12], 0, dx, 1, 3, 4),
                    "softmaxBackward: dx too short: need 12 elements from offset 1, has 12", dx);
            assertRejected(() -> ops.softmaxBackward(new float[12], 0, dx, 0, dx, 2, 2, 4),
                    "softmaxBackward: dx partially overlaps dy (in place needs the same offset)", dx);
        }
    }
}
