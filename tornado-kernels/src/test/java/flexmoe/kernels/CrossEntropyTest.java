package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.toDouble;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Cross-entropy with ignore index and logit z-loss against float64 references and finite differences. */
class CrossEntropyTest {

    private static final int[][] SHAPES = {{1, 1}, {1, 2}, {3, 7}, {17, 33}, {5, 300}, {9, 1000}, {2, 4099}};

    /** Targets in [-1, vocab): about one in five ignored, the first row never (so some token counts). */
    static int[] targets(SplittableRandom rng, int tokens, int vocab) {
        int[] y = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            y[t] = t > 0 && rng.nextInt(5) == 0 ? -1 : rng.nextInt(vocab);
        }
        return y;
    }

    static double refLse(double[] x, int t, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, x[t * vocab + j]);
        }
        double s = 0;
        for (int j = 0; j < vocab; j++) {
            s += Math.exp(x[t * vocab + j] - max);
        }
        return max + Math.log(s);
    }

    static double refLoss(double[] x, int[] y, int t, int vocab, double zw) {
        if (y[t] < 0) {
            return 0;
        }
        double lse = refLse(x, t, vocab);
        return lse - x[t * vocab + y[t]] + zw * lse * lse;
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 1e-5f, 0.01f})
    void forwardMatchesFloat64Reference(float zw) {
        SplittableRandom rng = new SplittableRandom(3);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], vocab = s[1];
                float[] logits = uniform(rng, tokens * vocab, 4);
                for (int i = 0; i < logits.length; i++) {
                    logits[i] += 30f;   // an offset that a sum of unshifted exps would feel
                }
                int[] y = targets(rng, tokens, vocab);
                float[] loss = poisoned(tokens);
                float[] lse = poisoned(tokens);
                backend.training().crossEntropyForward(logits, y, tokens, vocab, zw, loss, lse);

                double[] x = toDouble(logits);
                double[] expLoss = new double[tokens];
                double[] expLse = new double[tokens];
                double sum = 0;
                int valid = 0;
                for (int t = 0; t < tokens; t++) {
                    expLoss[t] = refLoss(x, y, t, vocab, zw);
                    expLse[t] = refLse(x, t, vocab);
                    if (y[t] >= 0) {
                        sum += loss[t];
                        valid++;
                    }
                }
                String what = tokens + "x" + vocab + " zw " + zw;
                assertClose("lse " + what, lse, expLse, 1e-5, 2e-6);
                assertClose("loss " + what, loss, expLoss, 2e-5, 1e-5);
                for (int t = 0; t < tokens; t++) {
                    if (y[t] < 0) {
                        assertThat(loss[t]).as("ignored loss").isEqualTo(0f);
                    }
                }
                assertThat(backend.training().meanLoss(loss, y, tokens)).isEqualTo(sum / valid);
                assertThat(TrainingOps.validTokens(y, tokens)).isEqualTo(valid);
            }
        }
    }

    @Test
    void largeVocabAndHugeLogitsStayFinite() {
        SplittableRandom rng = new SplittableRandom(8);
        int tokens = 2, vocab = 32768;
        float[] logits = uniform(rng, tokens * vocab, 50);
        logits[5] = 1000f;   // exp(1000) overflows unless max-subtracted
        int[] y = {5, 77};
        float[] loss = poisoned(tokens);
        float[] lse = poisoned(tokens);
        float[] d = poisoned(tokens * vocab);
        try (Backend backend = Backends.create("jvm", 2)) {
            backend.training().crossEntropyForward(logits, y, tokens, vocab, 1e-5f, loss, lse);
            backend.training().crossEntropyBackward(logits, y, lse, tokens, vocab, 1e-5f, new float[] {0.5f}, d);
        }
        double[] x = toDouble(logits);
        assertClose("loss", loss, new double[] {refLoss(x, y, 0, vocab, 1e-5), refLoss(x, y, 1, vocab, 1e-5)},
                1e-4, 1e-5);
        for (float v : d) {
            assertThat(Float.isFinite(v)).isTrue();
        }
    }

    @Test
    void meanLossOfAllIgnoredIsZero() {
        try (Backend backend = Backends.create("jvm", 1)) {
            assertThat(backend.training().meanLoss(new float[] {0f, 0f}, new int[] {-1, -1}, 2)).isEqualTo(0.0);
        }
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 0.01f})
    void backwardMatchesCentralDifferences(float zw) {
        SplittableRandom rng = new SplittableRandom(21);
        int[][] shapes = {{1, 1}, {1, 3}, {3, 7}, {4, 40}, {7, 17}};
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : shapes) {
                int tokens = s[0], vocab = s[1];
                float[] logits = uniform(rng, tokens * vocab, 3);
                int[] y = targets(rng, tokens, vocab);
                float scale = 1f / TrainingOps.validTokens(y, tokens);
                float[] loss = poisoned(tokens);
                float[] lse = poisoned(tokens);
                float[] d = poisoned(tokens * vocab);
                backend.training().crossEntropyForward(logits, y, tokens, vocab, zw, loss, lse);
                backend.training().crossEntropyBackward(logits, y, lse, tokens, vocab, zw, new float[] {scale}, d);

                double[] expected = centralDifference(x -> {
                    double total = 0;
                    for (int t = 0; t < tokens; t++) {
                        total += scale * refLoss(x, y, t, vocab, zw);
                    }
                    return total;
                }, toDouble(logits), 1e-6);
                assertClose("dlogits " + tokens + "x" + vocab + " zw " + zw, d, expected, 1e-5, 1e-4);
                for (int t = 0; t < tokens; t++) {
                    if (y[t] < 0) {
                        for (int j = 0; j < vocab; j++) {
                            assertThat(d[t * vocab + j]).as("ignored row").isEqualTo(0f);
                        }
                    }
                }
            }
        }
    }

    @Test
    void inPlaceBackwardGivesTheSameBits() {
        SplittableRandom rng = new SplittableRandom(4);
        int tokens = 13, vocab = 517;
        float[] logits = uniform(rng, tokens * vocab, 5);
        int[] y = targets(rng, tokens, vocab);
        float[] lse = poisoned(tokens);
        float[] loss = poisoned(tokens);
        float[] scale = {0.25f};
        float[] out = poisoned(tokens * vocab);
        try (Backend backend = Backends.create("jvm", 2)) {
            backend.training().crossEntropyForward(logits, y, tokens, vocab, 1e-5f, loss, lse);
            backend.training().crossEntropyBackward(logits, y, lse, tokens, vocab, 1e-5f, scale, out);
            float[] inPlace = logits.clone();
            backend.training().crossEntropyBackward(inPlace, y, lse, tokens, vocab, 1e-5f, scale, inPlace);
            assertBitsEqual("in place", inPlace, out);
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(6);
        int tokens = 300, vocab = 1111;
        float[] logits = uniform(rng, tokens * vocab, 6);
        int[] y = targets(rng, tokens, vocab);
        float[][] out = new float[2][];
        float[][] lses = new float[2][];
        float[][] losses = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            try (Backend backend = Backends.create("jvm", threads)) {
                float[] loss = poisoned(tokens);
                float[] lse = poisoned(tokens);
                float[] d = poisoned(tokens * vocab);
                backend.training().crossEntropyForward(logits, y, tokens, vocab, 1e-5f, loss, lse);
                backend.training().crossEntropyBackward(logits, y, lse, tokens, vocab, 1e-5f, new float[] {0.01f}, d);
                losses[threads - 1] = loss;
                lses[threads - 1] = lse;
                out[threads - 1] = d;
            }
        }
        assertBitsEqual("loss", losses[1], losses[0]);
        assertBitsEqual("lse", lses[1], lses[0]);
        assertBitsEqual("dlogits", out[1], out[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TrainingOps ops = backend.training();
            float[] logits = new float[14];
            float[] loss = poisoned(2);
            float[] lse = poisoned(2);
            float[] d = poisoned(14);
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {0, 7}, 2, 7, 0f, loss, lse))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("crossEntropyForward: targets[1] = 7 out of range [-1, 7)");
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {-2, 0}, 2, 7, 0f, loss, lse))
                    .hasMessage("crossEntropyForward: targets[0] = -2 out of range [-1, 7)");
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {0, 0}, 2, 8, 0f, loss, lse))
                    .hasMessage("crossEntropyForward: logits too short: need 16 elements from offset 0, has 14");
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {0}, 2, 7, 0f, loss, lse))
                    .hasMessage("crossEntropyForward: targets too short: need 2 elements from offset 0, has 1");
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {0, 0}, 2, 7, 0f, loss, new float[1]))
                    .hasMessage("crossEntropyForward: lse too short: need 2 elements from offset 0, has 1");
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {0, 0}, 0, 7, 0f, loss, lse))
                    .hasMessage("crossEntropyForward: tokens must be at least 1, got 0");
            assertThatThrownBy(() -> ops.crossEntropyForward(logits, new int[] {0, 0}, 2, 7, -1f, loss, lse))
                    .hasMessage("crossEntropyForward: zLossWeight must be finite and non-negative, got -1.0");
            assertThatThrownBy(() -> ops.crossEntropyBackward(logits, new int[] {0, 0}, lse, 2, 7, 0f,
                    new float[0], d))
                    .hasMessage("crossEntropyBackward: scale too short: need 1 elements from offset 0, has 0");
            assertThatThrownBy(() -> ops.crossEntropyBackward(logits, new int[] {0, 0}, lse, 2, 7, 0f,
                    new float[] {1f}, new float[13]))
                    .hasMessage("crossEntropyBackward: dlogits too short: need 14 elements from offset 0, has 13");
            assertThatThrownBy(() -> ops.crossEntropyBackward(logits, new int[] {0, 9}, lse, 2, 7, 0f,
                    new float[] {1f}, d))
                    .hasMessage("crossEntropyBackward: targets[1] = 9 out of range [-1, 7)");
            assertThatThrownBy(() -> ops.meanLoss(loss, new int[] {0}, 2))
                    .hasMessage("meanLoss: targets too short: need 2 elements from offset 0, has 1");
            for (float[] out : new float[][] {loss, lse, d}) {
                for (float v : out) {
                    assertThat(v).isNaN();
                }
            }
        }
    }
}
