package flexmoe.moe.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Greedy, temperature, top-k and top-p on distributions small enough to check by hand. */
class TokenSamplerTest {

    /** Sorted by probability: id 1 (0.5), id 2 (0.3), then the tie 0 and 3 (0.1 each), lower id first. */
    private static final float[] PROBS = {0.1f, 0.5f, 0.3f, 0.1f};

    private static int pick(int topK, double topP, double u) {
        return TokenSampler.pick(PROBS, 0, PROBS.length, topK, topP, u, new long[PROBS.length]);
    }

    @Test
    void inverseCdfRunsFromTheMostProbableTokenDown() {
        assertThat(pick(0, 1, 0.0)).isEqualTo(1);
        assertThat(pick(0, 1, 0.49)).isEqualTo(1);
        assertThat(pick(0, 1, 0.51)).isEqualTo(2);
        assertThat(pick(0, 1, 0.85)).isEqualTo(0);
        assertThat(pick(0, 1, 0.95)).isEqualTo(3);
    }

    @Test
    void topKKeepsTheKMostProbableAndRenormalises() {
        // Kept {1: 0.5, 2: 0.3} of mass 0.8: u = 0.6 lands at 0.48 (< 0.5), u = 0.7 at 0.56.
        assertThat(pick(2, 1, 0.6)).isEqualTo(1);
        assertThat(pick(2, 1, 0.7)).isEqualTo(2);
        assertThat(pick(2, 1, 0.999)).isEqualTo(2);
        assertThat(pick(1, 1, 0.999)).isEqualTo(1);
        // Ties at the cut go to the lower id: top-3 keeps id 0, not id 3.
        assertThat(pick(3, 1, 0.999)).isEqualTo(0);
        assertThat(pick(100, 1, 0.95)).as("k beyond V keeps all").isEqualTo(3);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingTheMass() {
        // 0.5 < 0.75 <= 0.5 + 0.3: ids 1 and 2 stay.
        assertThat(pick(0, 0.75, 0.999)).isEqualTo(2);
        assertThat(pick(0, 0.4, 0.999)).as("the most probable alone reaches 0.4").isEqualTo(1);
        assertThat(pick(0, 0.85, 0.999)).isEqualTo(0);
        // After top-2 (mass 0.8) the nucleus is relative to 0.8: 0.5 / 0.8 = 0.625 >= 0.6 keeps id 1 only.
        assertThat(pick(2, 0.6, 0.999)).isEqualTo(1);
        assertThat(pick(2, 0.7, 0.999)).isEqualTo(2);
    }

    @Test
    void drawFrequenciesFollowTheTruncatedDistribution() {
        SplittableRandom rng = new SplittableRandom(1);
        int n = 200_000;
        int[][] counts = new int[2][4];
        long[] keys = new long[4];
        for (int i = 0; i < n; i++) {
            counts[0][TokenSampler.pick(PROBS, 0, 4, 0, 1, rng.nextDouble(), keys)]++;
            counts[1][TokenSampler.pick(PROBS, 0, 4, 2, 1, rng.nextDouble(), keys)]++;
        }
        double[][] expected = {{0.1, 0.5, 0.3, 0.1}, {0, 0.5 / 0.8, 0.3 / 0.8, 0}};
        for (int c = 0; c < 2; c++) {
            for (int j = 0; j < 4; j++) {
                double p = expected[c][j];
                double sigma = Math.sqrt(p * (1 - p) / n);
                assertThat((double) counts[c][j] / n).as("case %d id %d", c, j).isCloseTo(p,
                        org.assertj.core.data.Offset.offset(5 * sigma + 1e-12));
            }
        }
    }

    @Test
    void temperatureSharpensOrFlattensThroughTheBackendSoftmax() {
        // Logits ln p: at temperature T the draw follows p^(1/T), renormalised.
        float[] logits = new float[4];
        for (int j = 0; j < 4; j++) {
            logits[j] = (float) Math.log(PROBS[j]);
        }
        try (Backend backend = Backends.create("jvm", 1)) {
            for (double temperature : new double[] {0.5, 2}) {
                TokenSampler sampler = new TokenSampler(backend, 4, 1);
                Sampling s = new Sampling(temperature, 0, 1, 1, 0);
                SplittableRandom[] rngs = {new SplittableRandom(2)};
                int[] out = new int[1];
                int[] counts = new int[4];
                int n = 100_000;
                for (int i = 0; i < n; i++) {
                    sampler.next(logits, 1, s, rngs, new boolean[] {true}, out);
                    counts[out[0]]++;
                }
                double z = 0;
                for (float p : PROBS) {
                    z += Math.pow(p, 1 / temperature);
                }
                for (int j = 0; j < 4; j++) {
                    double p = Math.pow(PROBS[j], 1 / temperature) / z;
                    double sigma = Math.sqrt(p * (1 - p) / n);
                    assertThat((double) counts[j] / n).as("T %s id %d", temperature, j)
                            .isCloseTo(p, org.assertj.core.data.Offset.offset(5 * sigma));
                }
            }
        }
    }

    @Test
    void greedyTakesTheFirstLargestLogitOfEachSequencesLastRow() {
        // Two sequences, two rows each: only row 1 of each counts.
        float[] logits = {9, 0, 0, 0, /* seq 0 last row */ 1, 3, 3, 2, /* seq 1 */ 0, 0, 0, 9, 5, 1, 5, 0};
        try (Backend backend = Backends.create("jvm", 1)) {
            TokenSampler sampler = new TokenSampler(backend, 4, 2);
            int[] out = {-1, -1};
            sampler.next(logits, 2, Sampling.greedy(1), null, new boolean[] {true, true}, out);
            assertThat(out).containsExactly(1, 0);
            out[0] = -1;
            sampler.next(logits, 2, Sampling.greedy(1), null, new boolean[] {false, true}, out);
            assertThat(out).as("inactive sequences are left alone").containsExactly(-1, 0);
        }
    }

    @Test
    void settingsAreValidated() {
        assertThatThrownBy(() -> new Sampling(-1, 0, 1, 5, 0))
                .hasMessage("temperature must be 0 (greedy) or in [1.0E-4, 10000.0], got -1.0");
        assertThatThrownBy(() -> new Sampling(1, -2, 1, 5, 0)).hasMessage("top-k must be 0 (off) or positive, got -2");
        assertThatThrownBy(() -> new Sampling(1, 0, 0, 5, 0)).hasMessage("top-p must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> new Sampling(1, 0, Double.NaN, 5, 0)).hasMessage("top-p must be in (0, 1], got NaN");
        assertThatThrownBy(() -> new Sampling(1, 0, 1, 0, 0)).hasMessage("max new tokens must be at least 1, got 0");
    }
}
