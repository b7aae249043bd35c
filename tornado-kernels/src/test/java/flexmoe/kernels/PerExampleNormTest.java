package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Per-example squared gradient norms of a linear layer (ghost and direct forms, and the chooser) against
 * a float64 reference that materialises each example's gradient G_iᵀA_i.
 */
class PerExampleNormTest {

    /** A layer's inputs, output gradients and segments; rows outside the segments are noise. */
    record Case(float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout, int[] seg, int examples) {

        static Case random(SplittableRandom rng, int examples, int maxT, int din, int dout) {
            int[] seg = new int[examples + 1];
            seg[0] = rng.nextInt(3);   // rows before the first segment belong to nobody
            for (int i = 0; i < examples; i++) {
                int len = rng.nextInt(4) == 0 ? 0 : 1 + rng.nextInt(maxT);   // empty segments too
                seg[i + 1] = seg[i] + len;
            }
            int rows = seg[examples] + rng.nextInt(3);
            int aOff = rng.nextInt(4);
            int gOff = rng.nextInt(4);
            return new Case(uniform(rng, aOff + rows * din, 1), aOff, uniform(rng, gOff + rows * dout, 1), gOff,
                    rows, din, dout, seg, examples);
        }

        /** ‖G_iᵀA_i‖_F² by forming the gradient in double. */
        double[] reference() {
            double[] out = new double[examples];
            for (int i = 0; i < examples; i++) {
                double s = 0;
                for (int o = 0; o < dout; o++) {
                    for (int j = 0; j < din; j++) {
                        double w = 0;
                        for (int t = seg[i]; t < seg[i + 1]; t++) {
                            w += (double) g[gOff + t * dout + o] * a[aOff + t * din + j];
                        }
                        s += w * w;
                    }
                }
                out[i] = s;
            }
            return out;
        }

        /** A bound on the float error scale: (Σ_s ‖a_s‖‖g_s‖)², which bounds Σ |(a_s·a_t)(g_s·g_t)|. */
        double[] magnitude() {
            double[] out = new double[examples];
            for (int i = 0; i < examples; i++) {
                double s = 0;
                for (int t = seg[i]; t < seg[i + 1]; t++) {
                    double na = 0, ng = 0;
                    for (int j = 0; j < din; j++) {
                        na += (double) a[aOff + t * din + j] * a[aOff + t * din + j];
                    }
                    for (int j = 0; j < dout; j++) {
                        ng += (double) g[gOff + t * dout + j] * g[gOff + t * dout + j];
                    }
                    s += Math.sqrt(na * ng);
                }
                out[i] = s * s;
            }
            return out;
        }

        long scratch(String method) {
            return switch (method) {
                case "ghost" -> TrainingOps.ghostScratchSize(rows);
                case "direct" -> TrainingOps.directScratchSize(examples, din, dout);
                default -> TrainingOps.perExampleNormScratchSize(seg, examples, rows, din, dout);
            };
        }

        void run(TrainingOps ops, String method, float[] norm2, boolean accumulate) {
            float[] scratch = poisoned((int) scratch(method));   // scratch must never be read before written
            switch (method) {
                case "ghost" -> ops.ghostNorm2(a, aOff, g, gOff, rows, din, dout, seg, examples, norm2, accumulate,
                        scratch);
                case "direct" -> ops.directNorm2(a, aOff, g, gOff, rows, din, dout, seg, examples, norm2, accumulate,
                        scratch);
                default -> ops.perExampleNorm2(a, aOff, g, gOff, rows, din, dout, seg, examples, norm2, accumulate,
                        scratch);
            }
        }
    }

    static void assertNorms(String what, float[] actual, double[] expected, double[] magnitude) {
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-5 * magnitude[i] + 1e-6;
            if (!Float.isFinite(actual[i]) || Math.abs(actual[i] - expected[i]) > tol) {
                fail("%s: example %d is %s, expected %s (tol %s)", what, i, actual[i], expected[i], tol);
            }
        }
    }

    private static final int[][] DIMS = {{1, 1}, {3, 1}, {17, 1}, {1, 5}, {7, 3}, {33, 17}, {16, 48}};

    @ParameterizedTest
    @ValueSource(strings = {"ghost", "direct", "chosen"})
    void matchesMaterialisedFloat64Reference(String method) {
        SplittableRandom rng = new SplittableRandom(31);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] d : DIMS) {
                for (int examples : new int[] {1, 2, 7}) {
                    for (int maxT : new int[] {1, 5, 19}) {
                        Case c = Case.random(rng, examples, maxT, d[0], d[1]);
                        String what = method + " din " + d[0] + " dout " + d[1] + " seg "
                                + java.util.Arrays.toString(c.seg());
                        double[] expected = c.reference();
                        double[] magnitude = c.magnitude();

                        float[] norm2 = poisoned(examples);
                        c.run(backend.training(), method, norm2, false);
                        assertNorms(what, norm2, expected, magnitude);
                        for (int i = 0; i < examples; i++) {
                            if (c.seg()[i] == c.seg()[i + 1]) {
                                assertThat(norm2[i]).as("empty segment").isEqualTo(0f);
                            }
                        }

                        float[] acc = uniform(rng, examples, 3);
                        double[] expectedAcc = new double[examples];
                        for (int i = 0; i < examples; i++) {
                            expectedAcc[i] = expected[i] + acc[i];
                        }
                        c.run(backend.training(), method, acc, true);
                        assertNorms(what + " accumulate", acc, expectedAcc, magnitude);
                    }
                }
            }
        }
    }

    @Test
    void ghostAndDirectAgreeAndAccumulateAcrossLayers() {
        SplittableRandom rng = new SplittableRandom(77);
        int examples = 6;
        try (Backend backend = Backends.create("jvm", 2)) {
            TrainingOps ops = backend.training();
            // Two layers sharing the examples' rows: the joint norm is the sum of the two calls.
            Case up = Case.random(rng, examples, 12, 24, 40);
            Case down = new Case(uniform(rng, up.rows() * 40, 1), 0, uniform(rng, up.rows() * 24, 1), 0,
                    up.rows(), 40, 24, up.seg(), examples);
            float[] ghost = poisoned(examples);
            float[] direct = poisoned(examples);
            up.run(ops, "ghost", ghost, false);
            down.run(ops, "ghost", ghost, true);
            up.run(ops, "direct", direct, false);
            down.run(ops, "direct", direct, true);
            double[] joint = new double[examples];
            double[] magnitude = new double[examples];
            for (int i = 0; i < examples; i++) {
                joint[i] = up.reference()[i] + down.reference()[i];
                magnitude[i] = up.magnitude()[i] + down.magnitude()[i];
            }
            assertNorms("ghost joint", ghost, joint, magnitude);
            assertNorms("direct joint", direct, joint, magnitude);
            double[] ghostD = new double[examples];
            for (int i = 0; i < examples; i++) {
                ghostD[i] = ghost[i];
            }
            assertNorms("ghost vs direct", direct, ghostD, magnitude);
        }
    }

    @Test
    void routerRowIsTheDoutOneCase() {
        // Router row e's per-example gradient is Σ_t dLogit[t, e] h_t: a linear layer with dout = 1 whose G is
        // the column e of dLogit [rows, experts].
        SplittableRandom rng = new SplittableRandom(5);
        int rows = 23, d = 13, experts = 3, e = 1;
        int[] seg = {0, 9, 9, 23};
        float[] h = uniform(rng, rows * d, 1);
        float[] dLogit = uniform(rng, rows * experts, 1);
        float[] column = new float[rows];
        for (int t = 0; t < rows; t++) {
            column[t] = dLogit[t * experts + e];
        }
        double[] expected = new double[3];
        for (int i = 0; i < 3; i++) {
            double[] grad = new double[d];
            for (int t = seg[i]; t < seg[i + 1]; t++) {
                for (int j = 0; j < d; j++) {
                    grad[j] += (double) dLogit[t * experts + e] * h[t * d + j];
                }
            }
            for (double v : grad) {
                expected[i] += v * v;
            }
        }
        Case c = new Case(h, 0, column, 0, rows, d, 1, seg, 3);
        try (Backend backend = Backends.create("jvm", 1)) {
            for (String method : new String[] {"ghost", "direct", "chosen"}) {
                float[] norm2 = poisoned(3);
                c.run(backend.training(), method, norm2, false);
                assertNorms("router " + method, norm2, expected, c.magnitude());
            }
        }
    }

    @Test
    void noRowsGivesZeros() {
        try (Backend backend = Backends.create("jvm", 2)) {
            Case c = new Case(new float[0], 0, new float[0], 0, 0, 4, 3, new int[] {0, 0, 0}, 2);
            for (String method : new String[] {"ghost", "direct", "chosen"}) {
                float[] norm2 = poisoned(2);
                c.run(backend.training(), method, norm2, false);
                assertThat(norm2).containsExactly(0f, 0f);
            }
        }
    }

    @Test
    void chooserFollowsBuEtAlRule() {
        int[] seg = {0, 3, 3, 5};   // longest segment T = 3: 2T² = 18
        assertThat(TrainingOps.useGhost(seg, 3, 19, 1)).isTrue();
        assertThat(TrainingOps.useGhost(seg, 3, 6, 3)).isFalse();
        assertThat(TrainingOps.useGhost(seg, 3, 3, 5)).isFalse();
        assertThat(TrainingOps.perExampleNormScratchSize(seg, 3, 7, 19, 1)).isEqualTo(7);
        assertThat(TrainingOps.perExampleNormScratchSize(seg, 3, 7, 6, 3)).isEqualTo(6 * 3 + 3 * 3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ghost", "direct"})
    void sameBitsWithOneAndTwoThreads(String method) {
        SplittableRandom rng = new SplittableRandom(13);
        Case c = Case.random(rng, 20, 60, 64, 48);
        float[][] out = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            try (Backend backend = Backends.create("jvm", threads)) {
                float[] norm2 = poisoned(20);
                c.run(backend.training(), method, norm2, false);
                out[threads - 1] = norm2;
            }
        }
        assertBitsEqual(method, out[1], out[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        float[] a = new float[10 * 4];
        float[] g = new float[10 * 3];
        float[] norm2 = poisoned(2);
        float[] scratch = poisoned(100);
        try (Backend backend = Backends.create("jvm", 1)) {
            TrainingOps ops = backend.training();
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5, 3}, 2, norm2, false, scratch))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("ghostNorm2: seg not monotone: seg[1] = 5 > seg[2] = 3");
            assertThatThrownBy(() -> ops.directNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5, 11}, 2, norm2, false,
                    scratch))
                    .hasMessage("directNorm2: seg[2] = 11 exceeds rows 10");
            assertThatThrownBy(() -> ops.perExampleNorm2(a, 0, g, 0, 10, 4, 3, new int[] {-1, 5, 6}, 2, norm2, false,
                    scratch))
                    .hasMessage("perExampleNorm2: seg[0] must be non-negative, got -1");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 1, g, 0, 10, 4, 3, new int[] {0, 5, 6}, 2, norm2, false,
                    scratch))
                    .hasMessage("ghostNorm2: a too short: need 40 elements from offset 1, has 40");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 4, 4, new int[] {0, 5, 6}, 2, norm2, false,
                    scratch))
                    .hasMessage("ghostNorm2: g too short: need 40 elements from offset 0, has 30");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5}, 2, norm2, false, scratch))
                    .hasMessage("ghostNorm2: seg too short: need 3 elements from offset 0, has 2");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5, 6, 7}, 3, norm2, false,
                    scratch))
                    .hasMessage("ghostNorm2: norm2 too short: need 3 elements from offset 0, has 2");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5, 6}, 2, norm2, false,
                    new float[9]))
                    .hasMessage("ghostNorm2: scratch too short: need 10 elements from offset 0, has 9");
            assertThatThrownBy(() -> ops.directNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5, 6}, 2, norm2, false,
                    new float[17]))
                    .hasMessage("directNorm2: scratch too short: need 18 elements from offset 0, has 17");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 0, 3, new int[] {0, 5, 6}, 2, norm2, false,
                    scratch))
                    .hasMessage("ghostNorm2: din must be at least 1, got 0");
            assertThatThrownBy(() -> ops.ghostNorm2(a, 0, g, 0, 10, 4, 3, new int[] {0, 5, 6}, 2, norm2, false, a))
                    .hasMessage("ghostNorm2: norm2 and scratch must not share an array with a, g or each other");
        }
        for (float v : norm2) {
            assertThat(v).isNaN();
        }
        for (float v : scratch) {
            assertThat(v).isNaN();
        }
    }
}
