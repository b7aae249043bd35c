package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.generate.TestModels;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.Parameters;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SequenceScorerTest {

    /** Sequences of 1 to 16 tokens with a few unscored positions. */
    private static List<SequenceScorer.Item> items(int vocab, int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<SequenceScorer.Item> items = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int len = 1 + rng.nextInt(16);
            int[] ids = TestModels.tokens(vocab, len + 1, seed * 100 + i);
            int[] inputs = java.util.Arrays.copyOf(ids, len);
            int[] targets = java.util.Arrays.copyOfRange(ids, 1, len + 1);
            for (int t = 0; t < len; t++) {
                if (rng.nextInt(5) == 0) {
                    targets[t] = -1;
                }
            }
            items.add(new SequenceScorer.Item(inputs, targets));
        }
        return items;
    }

    @Test
    void eachSequencesNllIsTheTrainingForwardsLossOfThatSequenceAlone() {
        try (Backend backend = Backends.create("jvm", 2)) {
            for (Parameters p : new Parameters[] {TestModels.tinyDense(1), TestModels.tinyMoe(2)}) {
                List<SequenceScorer.Item> items = items(64, 11, 3);
                double[] nll = new SequenceScorer(p, backend, 4, 16).score(items, null);
                for (int i = 0; i < items.size(); i++) {
                    SequenceScorer.Item item = items.get(i);
                    double expected = EvalFixtures.trainingForwardNll(p, backend, item.inputs(), item.targets());
                    // Batched with padding, the rows go through GEMMs of other sizes: float rounding only.
                    assertThat(nll[i]).as("item %d", i).isCloseTo(expected, within(1e-5 * (1 + expected)));
                }
            }
        }
    }

    @Test
    void batchSizeAndPaddingDoNotChangeTheBitsOnTheReferenceBackend() {
        try (Backend backend = Backends.create("reference", 1)) {
            Parameters p = TestModels.tinyMoe(4);
            List<SequenceScorer.Item> items = items(64, 7, 5);
            double[] one = new SequenceScorer(p, backend, 1, 16).score(items, null);
            double[] three = new SequenceScorer(p, backend, 3, 16).score(items, null);
            assertThat(three).isEqualTo(one);
        }
    }

    @Test
    void routingCountsAreTheModelsExpertTokenShares() {
        try (Backend backend = Backends.create("reference", 1)) {
            Parameters p = TestModels.tinyMoe(6);
            int batch = 3, seq = 10, vocab = p.config().vocabSize();
            int[] all = TestModels.tokens(vocab, batch * seq, 7);
            List<SequenceScorer.Item> items = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] inputs = java.util.Arrays.copyOfRange(all, b * seq, (b + 1) * seq);
                items.add(new SequenceScorer.Item(inputs, inputs.clone()));
            }
            RoutingCounts counts = new RoutingCounts(p.config());
            new SequenceScorer(p, backend, batch, seq).score(items, counts);
            FlexOlmoModel model = new FlexOlmoModel(p, backend);
            model.forward(all, null, batch, seq);
            assertThat(counts.tokens()).isEqualTo(batch * seq);
            double[][] shares = counts.shares();
            for (int l = 0; l < p.config().layers(); l++) {
                assertThat(shares[l]).as("layer %d", l).containsExactly(model.expertTokenShare(l), within(1e-12));
                assertThat(shares[l][0] + shares[l][1] + shares[l][2]).isCloseTo(2.0, within(1e-12));
            }
        }
    }

    @Test
    void onlyScoredPositionsAreCounted() {
        try (Backend backend = Backends.create("jvm", 1)) {
            Parameters p = TestModels.tinyMoe(8);
            SequenceScorer.Item item = new SequenceScorer.Item(new int[] {1, 2, 3, 4}, new int[] {-1, 3, -1, -1});
            RoutingCounts counts = new RoutingCounts(p.config());
            double[] nll = new SequenceScorer(p, backend, 2, 8).score(List.of(item), counts);
            assertThat(counts.tokens()).isEqualTo(1);
            assertThat(nll[0]).isCloseTo(EvalFixtures.trainingForwardNll(p, backend, item.inputs(), item.targets()),
                    within(1e-5));
        }
    }

    @Test
    void tooLongSequencesAndBadItemsAreRefused() {
        try (Backend backend = Backends.create("jvm", 1)) {
            SequenceScorer scorer = new SequenceScorer(TestModels.tinyDense(9), backend, 2, 8);
            SequenceScorer.Item long9 = new SequenceScorer.Item(new int[9], new int[9]);
            assertThatThrownBy(() -> scorer.score(List.of(long9), null))
                    .hasMessage("SequenceScorer: a sequence of 9 tokens exceeds the scorer's length 8");
            assertThatThrownBy(() -> new SequenceScorer.Item(new int[2], new int[3]))
                    .hasMessage("SequenceScorer.Item: inputs and targets must be non-empty and of equal length");
        }
    }
}
