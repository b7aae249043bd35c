package flexmoe.kernels;

import static flexmoe.kernels.TransformerTesting.assertRejected;
import static flexmoe.kernels.TransformerTesting.padded;
import static flexmoe.kernels.TransformerTesting.slice;
import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.dot;
import static flexmoe.kernels.testing.Numerics.ints;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RoPE tables, rotation and its backward against float64 references; the relative-position property. */
class RopeTest {

    /** {tokens, heads, headDim}: tiny, odd head counts, head widths not multiples of 16. */
    private static final int[][] SHAPES = {{1, 1, 2}, {3, 2, 4}, {7, 3, 10}, {5, 1, 34}, {2, 4, 6}};
    private static final int MAX_POS = 50;

    static double angle(int p, int i, int headDim, double theta) {
        return p * Math.pow(theta, -(2.0 * i) / headDim);
    }

    /** Rotate-half RoPE in float64; {@code sign} -1 rotates back. */
    static double[] reference(double[] x, int[] pos, int posOff, int tokens, int heads, int headDim, double theta,
                              double sign) {
        int half = headDim / 2;
        double[] y = new double[x.length];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    double a = sign * angle(pos[posOff + t], i, headDim, theta);
                    double x1 = x[base + i], x2 = x[base + half + i];
                    y[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
                    y[base + half + i] = x2 * Math.cos(a) + x1 * Math.sin(a);
                }
            }
        }
        return y;
    }

    static float[][] tables(Backend backend, int maxPos, int headDim, float theta) {
        float[] cos = poisoned(maxPos * headDim / 2), sin = poisoned(maxPos * headDim / 2);
        backend.transformer().ropeTables(cos, sin, maxPos, headDim, theta);
        return new float[][] {cos, sin};
    }

    @Test
    void tablesMatchFloat64Angles() {
        try (Backend backend = Backends.create("jvm", 2)) {
            for (float theta : new float[] {10000f, 500000f}) {
                for (int[] s : new int[][] {{1, 2}, {3, 2}, {300, 10}, {4096, 64}}) {
                    int maxPos = s[0], headDim = s[1], half = headDim / 2;
                    float[][] t = tables(backend, maxPos, headDim, theta);
                    double[] cos = new double[maxPos * half], sin = new double[maxPos * half];
                    for (int p = 0; p < maxPos; p++) {
                        for (int i = 0; i < half; i++) {
                            cos[p * half + i] = Math.cos(angle(p, i, headDim, theta));
                            sin[p * half + i] = Math.sin(angle(p, i, headDim, theta));
                        }
                    }
                    String what = theta + " " + maxPos + "x" + headDim;
                    assertClose("cos " + what, t[0], cos, 1e-7, 0);
                    assertClose("sin " + what, t[1], sin, 1e-7, 0);
                }
            }
        }
    }

    @Test
    void forwardMatchesFloat64ReferenceAndInPlaceGivesTheSameBits() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (float theta : new float[] {10000f, 500000f}) {
                for (int[] s : SHAPES) {
                    int tokens = s[0], heads = s[1], headDim = s[2], dim = heads * headDim, n = tokens * dim;
                    float[][] t = tables(backend, MAX_POS, headDim, theta);
                    int[] pos = padded(ints(rng, tokens, MAX_POS), 2);
                    float[] x = padded(uniform(rng, n, 2), 3);
                    float[] y = poisoned(1 + n);
                    backend.transformer().ropeForward(x, 3, y, 1, pos, 2, t[0], t[1], tokens, dim, heads, MAX_POS);
                    double[] expected = reference(slice(x, 3, n), pos, 2, tokens, heads, headDim, theta, 1);
                    String what = theta + " " + tokens + "x" + heads + "x" + headDim;
                    assertClose("rope " + what, y, 1, expected, 0, n, 1e-6, 1e-6);

                    backend.transformer().ropeForward(x, 3, x, 3, pos, 2, t[0], t[1], tokens, dim, heads, MAX_POS);
                    assertBitsEqual("in place " + what, java.util.Arrays.copyOfRange(x, 3, 3 + n),
                            java.util.Arrays.copyOfRange(y, 1, 1 + n));
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesAndUndoesTheForward() {
        SplittableRandom rng = new SplittableRandom(2);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], heads = s[1], headDim = s[2], dim = heads * headDim, n = tokens * dim;
                float theta = 10000f;
                float[][] t = tables(backend, MAX_POS, headDim, theta);
                int[] pos = ints(rng, tokens, MAX_POS);
                float[] dy = padded(uniform(rng, n, 1), 1);
                float[] dx = poisoned(2 + n);
                backend.transformer().ropeBackward(dy, 1, dx, 2, pos, 0, t[0], t[1], tokens, dim, heads, MAX_POS);
                double[] g = slice(dy, 1, n);
                double[] expected = centralDifference(
                        x -> dot(reference(x, pos, 0, tokens, heads, headDim, theta, 1), g),
                        slice(uniform(rng, n, 2), 0, n), 1e-6);
                String what = tokens + "x" + heads + "x" + headDim;
                assertClose("dx " + what, dx, 2, expected, 0, n, 1e-5, 1e-5);

                float[] back = poisoned(n);
                float[] fwd = poisoned(n);
                backend.transformer().ropeForward(dy, 1, fwd, 0, pos, 0, t[0], t[1], tokens, dim, heads, MAX_POS);
                backend.transformer().ropeBackward(fwd, 0, back, 0, pos, 0, t[0], t[1], tokens, dim, heads, MAX_POS);
                assertClose("backward(forward(x)) " + what, back, 0, g, 0, n, 1e-6, 1e-6);
            }
        }
    }

    @Test
    void rotatedDotProductDependsOnlyOnThePositionDifference() {
        SplittableRandom rng = new SplittableRandom(3);
        int headDim = 16, maxPos = 200;
        try (Backend backend = Backends.create("jvm", 1)) {
            float[][] t = tables(backend, maxPos, headDim, 10000f);
            float[] q = uniform(rng, headDim, 1), k = uniform(rng, headDim, 1);
            for (int[] mn : new int[][] {{5, 2}, {0, 0}, {7, 19}, {100, 37}}) {
                int m = mn[0], n = mn[1];
                double base = rotatedDot(backend, t, q, k, m, n, headDim, maxPos);
                for (int shift : new int[] {1, 13, 60}) {
                    double shifted = rotatedDot(backend, t, q, k, m + shift, n + shift, headDim, maxPos);
                    assertThat(shifted).as("q_%d.k_%d vs shift %d", m, n, shift).isCloseTo(base, within(2e-5));
                }
            }
            // ... and does depend on it, so the check above is not vacuous.
            assertThat(rotatedDot(backend, t, q, k, 5, 2, headDim, maxPos))
                    .isNotCloseTo(rotatedDot(backend, t, q, k, 5, 3, headDim, maxPos), within(1e-3));
        }
    }

    private static double rotatedDot(Backend backend, float[][] t, float[] q, float[] k, int m, int n, int headDim,
                                     int maxPos) {
        float[] x = new float[2 * headDim];
        System.arraycopy(q, 0, x, 0, headDim);
        System.arraycopy(k, 0, x, headDim, headDim);
        float[] y = poisoned(2 * headDim);
        backend.transformer().ropeForward(x, 0, y, 0, new int[] {m, n}, 0, t[0], t[1], 2, headDim, 1, maxPos);
        double s = 0;
        for (int d = 0; d < headDim; d++) {
            s += (double) y[d] * y[headDim + d];
        }
        return s;
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(4);
        int tokens = 2000, heads = 4, headDim = 34, dim = heads * headDim, maxPos = 3000;
        int[] pos = ints(rng, tokens, maxPos);
        float[] x = uniform(rng, tokens * dim, 1);
        float[][] y = new float[2][], dx = new float[2][], tabs = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            try (Backend backend = Backends.create("jvm", threads)) {
                float[][] t = tables(backend, maxPos, headDim, 500000f);
                y[threads - 1] = poisoned(tokens * dim);
                dx[threads - 1] = poisoned(tokens * dim);
                backend.transformer().ropeForward(x, 0, y[threads - 1], 0, pos, 0, t[0], t[1], tokens, dim, heads,
                        maxPos);
                backend.transformer().ropeBackward(x, 0, dx[threads - 1], 0, pos, 0, t[0], t[1], tokens, dim, heads,
                        maxPos);
                tabs[threads - 1] = t[0].clone();
            }
        }
        assertBitsEqual("tables", tabs[1], tabs[0]);
        assertBitsEqual("ropeForward", y[1], y[0]);
        assertBitsEqual("ropeBackward", dx[1], dx[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            float[] cos = new float[16], sin = new float[16];
            float[] x = new float[24];
            float[] y = poisoned(24);
            assertRejected(() -> ops.ropeForward(x, 0, y, 0, new int[] {0, 1}, 0, cos, sin, 2, 12, 5, 8),
                    "ropeForward: dim 12 is not divisible by heads 5", y);
            assertRejected(() -> ops.ropeForward(x, 0, y, 0, new int[] {0, 1}, 0, cos, sin, 2, 12, 4, 8),
                    "ropeForward: head dim 3 (dim 12 / heads 4) must be even (rotate-half pairs i, i + hd/2)", y);
            assertRejected(() -> ops.ropeForward(x, 0, y, 0, new int[] {0, 8}, 0, cos, sin, 2, 12, 3, 8),
                    "ropeForward: pos[1] = 8 is out of range [0, 8)", y);
            assertRejected(() -> ops.ropeForward(x, 0, y, 0, new int[] {0, 1}, 0, cos, sin, 2, 12, 3, 9),
                    "ropeForward: cos too short: need 18 elements from offset 0, has 16", y);
            assertRejected(() -> ops.ropeForward(x, 0, y, 0, new int[] {0}, 0, cos, sin, 2, 12, 3, 8),
                    "ropeForward: pos too short: need 2 elements from offset 0, has 1", y);
            assertRejected(() -> ops.ropeForward(x, 0, y, 1, new int[] {0, 1}, 0, cos, sin, 2, 12, 3, 8),
                    "ropeForward: y too short: need 24 elements from offset 1, has 24", y);
            assertRejected(() -> ops.ropeForward(y, 0, y, 4, new int[] {0, 1}, 0, cos, sin, 1, 12, 3, 8),
                    "ropeForward: y partially overlaps x (in place needs the same offset)", y);
            assertRejected(() -> ops.ropeBackward(x, 0, y, 0, new int[] {-2, 1}, 0, cos, sin, 2, 12, 3, 8),
                    "ropeBackward: pos[0] = -2 is out of range [0, 8)", y);
            float[] c = poisoned(8), s = poisoned(8);
            assertRejected(() -> ops.ropeTables(c, s, 2, 5, 10000f),
                    "ropeTables: headDim must be even (rotate-half pairs i, i + hd/2), got 5", c, s);
            assertRejected(() -> ops.ropeTables(c, s, 3, 6, 10000f),
                    "ropeTables: cos too short: need 9 elements from offset 0, has 8", c, s);
            assertRejected(() -> ops.ropeTables(c, s, 2, 4, -1f),
                    "ropeTables: theta must be finite and positive, got -1.0", c, s);
            assertRejected(() -> ops.ropeTables(c, c, 2, 4, 10000f), "ropeTables: cos overlaps sin", c);
        }
    }
}
