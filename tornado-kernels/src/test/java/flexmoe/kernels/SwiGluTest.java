package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.concat;
import static flexmoe.kernels.testing.Numerics.dot;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.slice;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SwiGLU (split and fused layouts) against a float64 reference and float64 finite differences. */
class SwiGluTest {

    private static final int[][] SHAPES = {{1, 1}, {1, 17}, {3, 5}, {7, 16}, {13, 33}, {4, 100}};

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** float64 reference: {@code h[i] = silu(a[i]) * u[i]}. */
    static double[] reference(double[] a, double[] u) {
        double[] h = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            h[i] = silu(a[i]) * u[i];
        }
        return h;
    }

    @Test
    void forwardMatchesFloat64ReferenceWithOffsets() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int rows = s[0], f = s[1], n = rows * f;
                int aOff = 2, uOff = 3, hOff = 1;
                float[] a = uniform(rng, aOff + n, 6);
                float[] u = uniform(rng, uOff + n, 2);
                float[] h = poisoned(hOff + n + 2);
                backend.moe().swigluForward(a, aOff, u, uOff, h, hOff, rows, f);
                double[] expected = reference(slice(a, aOff, n), slice(u, uOff, n));
                assertClose("swiglu " + rows + "x" + f, h, hOff, expected, 0, n, 1e-6, 1e-5);
                assertThat(h[0]).isNaN();
                assertThat(h[hOff + n]).isNaN();
            }
        }
    }

    @Test
    void extremePreActivationsSaturateWithoutNaN() {
        float[] a = {-1000f, -100f, -88.8f, -20f, -0f, 0f, 20f, 100f, 1000f};
        int n = a.length;
        float[] u = new float[n];
        Arrays.fill(u, 1.5f);
        float[] dh = new float[n];
        Arrays.fill(dh, 1f);
        float[] h = poisoned(n);
        float[] da = poisoned(n);
        float[] du = poisoned(n);
        try (Backend backend = Backends.create("jvm", 1)) {
            backend.moe().swigluForward(a, 0, u, 0, h, 0, 1, n);
            backend.moe().swigluBackward(a, 0, u, 0, dh, 0, da, 0, du, 0, 1, n);
        }
        double[] expected = reference(slice(a, 0, n), slice(u, 0, n));
        assertClose("extreme forward", h, expected, 1e-6, 1e-6);
        double[] expectedDa = new double[n];
        double[] expectedDu = new double[n];
        for (int i = 0; i < n; i++) {
            double sg = 1 / (1 + Math.exp(-a[i]));
            expectedDa[i] = u[i] * sg * (1 + a[i] * (1 - sg));
            expectedDu[i] = silu(a[i]);
        }
        assertClose("extreme da", da, expectedDa, 1e-6, 1e-5);
        assertClose("extreme du", du, expectedDu, 1e-6, 1e-5);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(2);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int rows = s[0], f = s[1], n = rows * f;
                int off = 1;
                float[] a = uniform(rng, off + n, 4);
                float[] u = uniform(rng, off + n, 2);
                float[] w = uniform(rng, off + n, 1);
                float[] da = poisoned(n + 3);
                float[] du = poisoned(n + 2);
                backend.moe().swigluBackward(a, off, u, off, w, off, da, 3, du, 2, rows, f);

                double[] ad = slice(a, off, n);
                double[] ud = slice(u, off, n);
                double[] wd = slice(w, off, n);
                double[] fdA = centralDifference(x -> dot(reference(x, ud), wd), ad, 1e-6);
                double[] fdU = centralDifference(x -> dot(reference(ad, x), wd), ud, 1e-6);
                String what = rows + "x" + f;
                assertClose("da " + what, da, 3, fdA, 0, n, 1e-5, 1e-4);
                assertClose("du " + what, du, 2, fdU, 0, n, 1e-5, 1e-4);
            }
        }
    }

    @Test
    void fusedLayoutGivesTheSameBitsAsSplit() {
        SplittableRandom rng = new SplittableRandom(3);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int rows = s[0], f = s[1], n = rows * f;
                float[] a = uniform(rng, n, 6);
                float[] u = uniform(rng, n, 2);
                float[] dh = uniform(rng, n, 1);
                int guOff = 5;
                float[] gu = new float[guOff + 2 * n];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(a, r * f, gu, guOff + r * 2 * f, f);
                    System.arraycopy(u, r * f, gu, guOff + r * 2 * f + f, f);
                }
                float[] h = poisoned(n);
                float[] hf = poisoned(n);
                backend.moe().swigluForward(a, 0, u, 0, h, 0, rows, f);
                backend.moe().swigluFusedForward(gu, guOff, hf, 0, rows, f);
                assertBitsEqual("fused forward", hf, h);

                float[] da = poisoned(n);
                float[] du = poisoned(n);
                float[] dGu = poisoned(2 * n + 1);
                backend.moe().swigluBackward(a, 0, u, 0, dh, 0, da, 0, du, 0, rows, f);
                backend.moe().swigluFusedBackward(gu, guOff, dh, 0, dGu, 1, rows, f);
                float[] daF = new float[n];
                float[] duF = new float[n];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(dGu, 1 + r * 2 * f, daF, r * f, f);
                    System.arraycopy(dGu, 1 + r * 2 * f + f, duF, r * f, f);
                }
                assertBitsEqual("fused da", daF, da);
                assertBitsEqual("fused du", duF, du);
                assertThat(dGu[0]).isNaN();
            }
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(4);
        int rows = 701, f = 97, n = rows * f;
        float[] a = uniform(rng, n, 5);
        float[] u = uniform(rng, n, 2);
        float[] dh = uniform(rng, n, 1);
        float[] gu = uniform(rng, 2 * n, 5);
        float[][] out = new float[2][];
        int i = 0;
        for (int threads : new int[] {1, 2}) {
            try (Backend backend = Backends.create("jvm", threads)) {
                float[] h = poisoned(n);
                float[] da = poisoned(n);
                float[] du = poisoned(n);
                float[] hf = poisoned(n);
                float[] dGu = poisoned(2 * n);
                backend.moe().swigluForward(a, 0, u, 0, h, 0, rows, f);
                backend.moe().swigluBackward(a, 0, u, 0, dh, 0, da, 0, du, 0, rows, f);
                backend.moe().swigluFusedForward(gu, 0, hf, 0, rows, f);
                backend.moe().swigluFusedBackward(gu, 0, dh, 0, dGu, 0, rows, f);
                out[i++] = concat(h, da, du, hf, dGu);
            }
        }
        assertBitsEqual("swiglu 1 vs 2 threads", out[1], out[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            MoeOps moe = backend.moe();
            float[] out = poisoned(12);
            float[] out2 = poisoned(12);
            assertThatThrownBy(() -> moe.swigluForward(new float[6], 0, new float[6], 0, out, 0, 0, 3))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("swigluForward: rows must be at least 1, got 0");
            assertThatThrownBy(() -> moe.swigluForward(new float[5], 0, new float[6], 0, out, 0, 2, 3))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("swigluForward: a too short: need 6 elements from offset 0, has 5");
            assertThatThrownBy(() -> moe.swigluForward(new float[6], 0, new float[6], 0, out, 7, 2, 3))
                    .hasMessage("swigluForward: h too short: need 6 elements from offset 7, has 12");
            assertThatThrownBy(() -> moe.swigluBackward(new float[6], 0, new float[6], 0, new float[6], 0,
                    out, 0, out2, 8, 2, 3))
                    .hasMessage("swigluBackward: du too short: need 6 elements from offset 8, has 12");
            assertThatThrownBy(() -> moe.swigluBackward(new float[6], 0, null, 0, new float[6], 0,
                    out, 0, out2, 0, 2, 3))
                    .hasMessage("swigluBackward: u is null");
            assertThatThrownBy(() -> moe.swigluFusedForward(new float[11], 0, out, 0, 2, 3))
                    .hasMessage("swigluFusedForward: gu too short: need 12 elements from offset 0, has 11");
            assertThatThrownBy(() -> moe.swigluFusedBackward(new float[12], 0, new float[6], 0, out, 1, 2, 3))
                    .hasMessage("swigluFusedBackward: dGu too short: need 12 elements from offset 1, has 12");
            assertThatThrownBy(() -> moe.swigluFusedBackward(new float[12], 0, new float[6], 0, out, 0, 2, 0))
                    .hasMessage("swigluFusedBackward: f must be at least 1, got 0");
            for (float v : concat(out, out2)) {
                assertThat(v).isNaN();
            }
        }
    }
}
