package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.toDouble;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JVM backend's packed Vector API GEMM against the plain {@link GemmKernels} bodies and a float64
 * reference, on shapes that exercise every edge of its blocking: sizes that are not multiples of the
 * micro-tile (8 x 32), of the K block (256) or of the N block (1024), several blocks in every dimension,
 * offsets, accumulate, NaN-poisoned outputs, and bit-identical results across thread counts.
 */
class VectorGemmTest {

    /**
     * {m, n, k}: tiny (plain path), just past it, vector edges, several M/N/K blocks, several K phases
     * ({40, 1030, 1030}), and an Aᵀ·B taller than one piece of its packed Aᵀ ({4100, 5, 40}).
     */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {2, 3, 1}, {1, 1, 5000}, {1, 70, 70}, {70, 1, 70}, {8, 32, 16}, {9, 33, 17}, {7, 31, 257},
        {16, 16, 16}, {63, 65, 129}, {129, 31, 300}, {33, 200, 513}, {300, 1100, 530}, {40, 1030, 1030},
        {4100, 5, 40},
    };

    private static Backend one;
    private static Backend two;

    @BeforeAll
    static void open() {
        one = Backends.create("jvm", 1);
        two = Backends.create("jvm", 2);
    }

    @AfterAll
    static void close() {
        one.close();
        two.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN"})
    void matchesPlainBodiesAndFloat64OnBlockEdgesWithOffsetsAndAccumulate(String layout) {
        SplittableRandom rng = new SplittableRandom(23);
        for (int[] s : SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            int aOff = rng.nextInt(5), bOff = rng.nextInt(5), cOff = rng.nextInt(5);
            int guard = 7;
            String what = layout + " " + m + "x" + n + "x" + k;
            float[] a = uniform(rng, aOff + m * k, 1);
            float[] b = uniform(rng, bOff + k * n, 1);
            double[] ref = GemmTest.reference(a, aOff, b, bOff, null, m, n, k,
                    layout.equals("TN"), layout.equals("NT"));
            float[] plain = plain(layout, a, aOff, b, bOff, m, n, k);
            double tol = 1e-6 * k + 1e-6;

            float[] c = poisoned(cOff + m * n + guard);
            GemmTest.run(two, layout, a, aOff, b, bOff, c, cOff, m, n, k, false);
            assertClose(what, c, cOff, ref, 0, m * n, tol, 1e-5);
            assertClose(what + " vs plain body", c, cOff, toDouble(plain), 0, m * n, tol, 1e-5);
            assertUntouchedOutside(what, c, cOff, m * n);

            float[] acc = poisoned(cOff + m * n + guard);
            float[] c0 = uniform(rng, m * n, 1);
            System.arraycopy(c0, 0, acc, cOff, m * n);
            GemmTest.run(two, layout, a, aOff, b, bOff, acc, cOff, m, n, k, true);
            double[] refAcc = new double[m * n];
            for (int i = 0; i < m * n; i++) {
                refAcc[i] = c0[i] + ref[i];
            }
            assertClose(what + " accumulate", acc, cOff, refAcc, 0, m * n, tol, 1e-5);
            assertUntouchedOutside(what + " accumulate", acc, cOff, m * n);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT"})
    void aFewRowsGiveTheBitsOfTheSameRowsInsideALargeProduct(String layout) {
        // Decoding multiplies one row per sequence; the full forward multiplies all of them. A few rows (NN: the
        // path without packing) must give a row exactly the packed path's bits: several K blocks (k 600), columns
        // that are no multiple of the vector width, overwrite and accumulate, one and two threads.
        SplittableRandom rng = new SplittableRandom(67);
        int big = 37, n = 1000 + 3, k = 600;
        float[] a = uniform(rng, big * k, 1);
        float[] b = uniform(rng, k * n, 1);
        float[] c0 = uniform(rng, big * n, 1);
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] full = accumulate ? c0.clone() : poisoned(big * n);
            GemmTest.run(two, layout, a, 0, b, 0, full, 0, big, n, k, accumulate);
            for (int rows = 1; rows <= 5; rows++) {
                int first = 5 * rows;
                for (Backend backend : new Backend[] {one, two}) {
                    float[] part = accumulate ? java.util.Arrays.copyOfRange(c0, first * n, (first + rows) * n)
                            : poisoned(rows * n);
                    GemmTest.run(backend, layout, a, first * k, b, 0, part, 0, rows, n, k, accumulate);
                    assertBitsEqual(layout + " rows " + first + ".." + (first + rows - 1) + " accumulate "
                            + accumulate + " threads " + backend.threads(), part,
                            java.util.Arrays.copyOfRange(full, first * n, (first + rows) * n));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN"})
    void sameBitsWithOneAndTwoThreadsOnSeveralBlocks(String layout) {
        SplittableRandom rng = new SplittableRandom(31);
        // Two N blocks, three K blocks, row and column chunks; then several K phases (packing the next
        // phase overlaps computing one only with two threads); accumulate onto the first result.
        for (int[] s : new int[][] {{300, 1100, 530}, {96, 1030, 1100}}) {
            int m = s[0], n = s[1], k = s[2];
            String what = layout + " " + m + "x" + n + "x" + k;
            float[] a = uniform(rng, m * k, 1);
            float[] b = uniform(rng, k * n, 1);
            float[] c1 = poisoned(m * n);
            float[] c2 = poisoned(m * n);
            GemmTest.run(one, layout, a, 0, b, 0, c1, 0, m, n, k, false);
            GemmTest.run(two, layout, a, 0, b, 0, c2, 0, m, n, k, false);
            assertBitsEqual(what, c2, c1);
            GemmTest.run(one, layout, a, 0, b, 0, c1, 0, m, n, k, true);
            GemmTest.run(two, layout, a, 0, b, 0, c2, 0, m, n, k, true);
            assertBitsEqual(what + " accumulate", c2, c1);
        }
    }

    /**
     * Aᵀ·B in two bands of C, each over all of K (cut by rows when m > n, else by columns), which one thread
     * computes as a single band: cut by rows with the single band taller than one piece of packed Aᵀ
     * (1024 rows); cut by columns with the single band wider than the N block (1024); bands wider than the
     * N block; bands taller than one piece together with two N blocks; one band over many K blocks with a
     * row edge. K blocks of 150, 40 and 250 leave 2, 0 and 2 rows past the 4-row packing of Aᵀ.
     */
    @Test
    void weightGradientBandsMatchFloat64AndGiveSameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(59);
        int[][] shapes = {{1100, 300, 300}, {300, 1100, 300}, {72, 2100, 300}, {2100, 1030, 40}, {20, 30, 3000}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            String what = "TN " + m + "x" + n + "x" + k;
            float[] a = uniform(rng, k * m, 1);
            float[] b = uniform(rng, k * n, 1);
            float[] c1 = poisoned(m * n);
            float[] c2 = poisoned(m * n);
            one.gemm().matmulTN(a, 0, b, 0, c1, 0, m, n, k, false);
            two.gemm().matmulTN(a, 0, b, 0, c2, 0, m, n, k, false);
            assertBitsEqual(what, c2, c1);
            double[] ref = GemmTest.reference(a, 0, b, 0, null, m, n, k, true, false);
            assertClose(what, c1, 0, ref, 0, m * n, 1e-6 * k + 1e-6, 1e-5);
            one.gemm().matmulTN(a, 0, b, 0, c1, 0, m, n, k, true);
            two.gemm().matmulTN(a, 0, b, 0, c2, 0, m, n, k, true);
            assertBitsEqual(what + " accumulate", c2, c1);
            double[] twice = new double[m * n];
            for (int i = 0; i < m * n; i++) {
                twice[i] = 2 * ref[i];
            }
            assertClose(what + " accumulate", c1, 0, twice, 0, m * n, 2e-6 * k + 1e-6, 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN"})
    void randomShapesMatchFloat64(String layout) {
        SplittableRandom rng = new SplittableRandom(47);
        List<String> failures = new ArrayList<>();
        for (int trial = 0; trial < 40; trial++) {
            int m = 1 + rng.nextInt(trial < 30 ? 40 : 150);
            int n = 1 + rng.nextInt(trial < 30 ? 80 : 300);
            int k = 1 + rng.nextInt(trial < 30 ? 80 : 600);
            boolean accumulate = rng.nextBoolean();
            float[] a = uniform(rng, m * k, 1);
            float[] b = uniform(rng, k * n, 1);
            float[] c0 = uniform(rng, m * n, 1);
            float[] c = accumulate ? c0.clone() : poisoned(m * n);
            GemmTest.run(trial % 2 == 0 ? one : two, layout, a, 0, b, 0, c, 0, m, n, k, accumulate);
            double[] ref = GemmTest.reference(a, 0, b, 0, accumulate ? toDouble(c0) : null, m, n, k,
                    layout.equals("TN"), layout.equals("NT"));
            try {
                assertClose(layout + " " + m + "x" + n + "x" + k + (accumulate ? " accumulate" : ""),
                        c, 0, ref, 0, m * n, 1e-6 * k + 1e-6, 1e-5);
            } catch (AssertionError e) {
                failures.add(e.getMessage());
            }
        }
        assertThat(failures).isEmpty();
    }

    /** The plain bodies, one cell at a time: the specification the Vector API GEMM must match. */
    private static float[] plain(String layout, float[] a, int aOff, float[] b, int bOff, int m, int n, int k) {
        float[] c = poisoned(m * n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                switch (layout) {
                    case "NN" -> GemmKernels.matmulCell(i, j, a, aOff, b, bOff, c, 0, n, k, false);
                    case "NT" -> GemmKernels.matmulNTCell(i, j, a, aOff, b, bOff, c, 0, n, k, false);
                    default -> GemmKernels.matmulTNCell(i, j, a, aOff, b, bOff, c, 0, m, n, k, false);
                }
            }
        }
        return c;
    }

    private static void assertUntouchedOutside(String what, float[] c, int cOff, int size) {
        for (int i = 0; i < c.length; i++) {
            if (i < cOff || i >= cOff + size) {
                assertThat(c[i]).as("%s: element %d outside C was written", what, i).isNaN();
            }
        }
    }
}
