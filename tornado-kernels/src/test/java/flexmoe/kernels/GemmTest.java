package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Every GEMM layout of the JVM backend against a float64 reference, and across thread counts. */
class GemmTest {

    private static final int[][] SHAPES = {
        {1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {8, 32, 256}, {65, 47, 130}, {130, 257, 31}, {9, 1, 300},
    };

    /** float64 reference; {@code ta}/{@code tb}: A given as [k,m] / B given as [n,k]. */
    static double[] reference(float[] a, int aOff, float[] b, int bOff, double[] c0, int m, int n, int k,
                              boolean ta, boolean tb) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = c0 == null ? 0 : c0[i * n + j];
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[aOff + p * m + i] : a[aOff + i * k + p];
                    double bv = tb ? b[bOff + j * k + p] : b[bOff + p * n + j];
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN"})
    void matchesFloat64ReferenceOnOddShapesWithOffsetsAndAccumulate(String layout) {
        SplittableRandom rng = new SplittableRandom(11);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int m = s[0], n = s[1], k = s[2];
                int aOff = 3, bOff = 5, cOff = 2;
                float[] a = uniform(rng, aOff + m * k, 1);
                float[] b = uniform(rng, bOff + k * n, 1);
                double tol = 1e-6 * k + 1e-6;
                float[] c = poisoned(cOff + m * n);
                run(backend, layout, a, aOff, b, bOff, c, cOff, m, n, k, false);
                double[] expected = reference(a, aOff, b, bOff, null, m, n, k,
                        layout.equals("TN"), layout.equals("NT"));
                assertClose(layout + " " + m + "x" + n + "x" + k, c, cOff, expected, 0, m * n, tol, 1e-5);

                float[] acc = uniform(rng, cOff + m * n, 1);
                double[] c0 = new double[m * n];
                for (int i = 0; i < m * n; i++) {
                    c0[i] = acc[cOff + i];
                }
                run(backend, layout, a, aOff, b, bOff, acc, cOff, m, n, k, true);
                double[] expectedAcc = reference(a, aOff, b, bOff, c0, m, n, k,
                        layout.equals("TN"), layout.equals("NT"));
                assertClose(layout + " accumulate " + m + "x" + n + "x" + k, acc, cOff, expectedAcc, 0, m * n,
                        tol, 1e-5);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN"})
    void sameBitsWithOneAndTwoThreads(String layout) {
        SplittableRandom rng = new SplittableRandom(5);
        int m = 203, n = 97, k = 301;
        float[] a = uniform(rng, m * k, 1);
        float[] b = uniform(rng, k * n, 1);
        float[] c1 = poisoned(m * n);
        float[] c2 = poisoned(m * n);
        try (Backend one = Backends.create("jvm", 1); Backend two = Backends.create("jvm", 2)) {
            run(one, layout, a, 0, b, 0, c1, 0, m, n, k, false);
            run(two, layout, a, 0, b, 0, c2, 0, m, n, k, false);
        }
        assertBitsEqual(layout, c2, c1);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            float[] c = poisoned(6);
            assertThatThrownBy(() -> backend.gemm().matmul(new float[5], 0, new float[6], 0, c, 0, 2, 3, 3, false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("matmul: a too short: need 6 elements from offset 0, has 5");
            assertThatThrownBy(() -> backend.gemm().matmulNT(new float[6], 0, new float[9], 0, c, 1, 2, 3, 3, false))
                    .hasMessage("matmulNT: c too short: need 6 elements from offset 1, has 6");
            assertThatThrownBy(() -> backend.gemm().matmulTN(new float[6], 0, new float[9], 0, c, 0, 0, 3, 3, false))
                    .hasMessage("matmulTN: m must be at least 1, got 0");
            for (float v : c) {
                org.assertj.core.api.Assertions.assertThat(v).isNaN();
            }
        }
    }

    static void run(Backend backend, String layout, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                    int m, int n, int k, boolean accumulate) {
        switch (layout) {
            case "NN" -> backend.gemm().matmul(a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
            case "NT" -> backend.gemm().matmulNT(a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
            case "TN" -> backend.gemm().matmulTN(a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
            default -> throw new IllegalArgumentException(layout);
        }
    }
}
