package flexmoe.moe.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.moe.model.InferenceSession;
import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.Parameters;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {

    private static Backend backend;
    private static final Parameters MODEL = TestModels.tinyMoe(31);
    private static final int[] PROMPT = TestModels.tokens(64, 4, 32);

    @BeforeAll
    static void setUp() {
        backend = Backends.create("reference", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static Generation generate(Sampling s, int eos) {
        return new Generator(MODEL, backend).generate(PROMPT, s, eos);
    }

    @Test
    void greedyTakesTheFullForwardsArgmaxAtEveryStep() {
        Generation g = generate(Sampling.greedy(8), -1);
        assertThat(g.stop()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(g.tokens()).hasSize(8);
        int v = MODEL.config().vocabSize();
        for (int j = 0; j < 8; j++) {
            // The whole text so far in one prefill (tied to FlexOlmoModel.forward by InferenceSessionTest).
            int[] text = new int[PROMPT.length + j];
            System.arraycopy(PROMPT, 0, text, 0, PROMPT.length);
            System.arraycopy(g.tokens(), 0, text, PROMPT.length, j);
            float[] logits = new InferenceSession(MODEL, backend, 1, text.length).forward(text, text.length);
            assertThat(g.tokens()[j]).as("step %d", j)
                    .isEqualTo(TokenSampler.argmax(logits, (text.length - 1) * v, v));
        }
    }

    @Test
    void theSameSeedGivesTheSameTokensAndAnotherSeedOthers() {
        Sampling s = new Sampling(1, 0, 1, 10, 42);
        Generation a = generate(s, -1);
        Generation b = generate(s, -1);
        Generation c = generate(new Sampling(1, 0, 1, 10, 43), -1);
        assertThat(b.tokens()).isEqualTo(a.tokens());
        // Over 64 near-uniform tokens ten equal draws by chance has probability ~1e-18.
        assertThat(c.tokens()).isNotEqualTo(a.tokens());
    }

    @Test
    void samplesOfOneBatchDrawFromTheirOwnStreams() {
        Sampling s = new Sampling(1.0, 20, 0.95, 10, 7);
        List<Generation> three = new Generator(MODEL, backend).generate(PROMPT, 3, s, -1);
        assertThat(three).hasSize(3);
        assertThat(three.get(0).tokens()).isNotEqualTo(three.get(1).tokens());
        assertThat(three.get(1).tokens()).isNotEqualTo(three.get(2).tokens());
        // Sample 0 uses the first split of the seed's generator, alone or in a batch (the reference backend's
        // logits do not depend on the batch).
        assertThat(generate(s, -1).tokens()).isEqualTo(three.get(0).tokens());
    }

    @Test
    void topOneAndATinyNucleusAreGreedy() {
        int[] greedy = generate(Sampling.greedy(6), -1).tokens();
        assertThat(generate(new Sampling(1, 1, 1, 6, 5), -1).tokens()).isEqualTo(greedy);
        assertThat(generate(new Sampling(1, 0, 1e-9, 6, 6), -1).tokens()).isEqualTo(greedy);
        assertThat(generate(new Sampling(1.5, 1, 0.5, 6, 7), -1).tokens()).isEqualTo(greedy);
    }

    @Test
    void stopsAtTheEndOfDocumentTokenWithoutIncludingIt() {
        int[] greedy = generate(Sampling.greedy(6), -1).tokens();
        Generation atOnce = generate(Sampling.greedy(6), greedy[0]);
        assertThat(atOnce.stop()).isEqualTo(StopReason.EOS);
        assertThat(atOnce.tokens()).isEmpty();
        int later = greedy[3];
        int first = 0;
        while (greedy[first] != later) {
            first++;
        }
        Generation g = generate(Sampling.greedy(6), later);
        assertThat(g.stop()).isEqualTo(StopReason.EOS);
        assertThat(g.tokens()).isEqualTo(Arrays.copyOf(greedy, first));
    }

    @Test
    void stopsWhenTheContextIsFull() {
        int maxSeq = MODEL.config().maxSeqLen();
        int[] prompt = TestModels.tokens(64, maxSeq - 2, 33);
        Generation g = new Generator(MODEL, backend).generate(prompt, Sampling.greedy(10), -1);
        // Positions maxSeq-2 and maxSeq-1 are fed back; the token after the last position ends it.
        assertThat(g.stop()).isEqualTo(StopReason.CONTEXT_FULL);
        assertThat(g.tokens()).hasSize(3);
        Generation whole = new Generator(MODEL, backend).generate(TestModels.tokens(64, maxSeq, 33),
                Sampling.greedy(10), -1);
        assertThat(whole.stop()).isEqualTo(StopReason.CONTEXT_FULL);
        assertThat(whole.tokens()).hasSize(1);
    }

    @Test
    void badRequestsGiveOneLineErrors() {
        Generator generator = new Generator(MODEL, backend);
        Sampling s = Sampling.greedy(3);
        assertThatThrownBy(() -> generator.generate(new int[0], s, -1))
                .hasMessage("generate: the prompt is empty (start it with the end-of-document token to generate a"
                        + " document from scratch)");
        assertThatThrownBy(() -> generator.generate(new int[17], s, -1))
                .hasMessage("generate: the prompt has 17 tokens, more than the model's maxSeqLen 16");
        assertThatThrownBy(() -> generator.generate(PROMPT, 0, s, -1))
                .hasMessage("generate: samples must be at least 1, got 0");
        assertThatThrownBy(() -> generator.generate(PROMPT, s, 64))
                .hasMessage("generate: eosId must be -1 (none) or in [0, 64), got 64");
        assertThatThrownBy(() -> generator.generate(new int[] {3, 99}, s, -1))
                .hasMessage("InferenceSession.forward: token 99 (index 1) is out of the vocabulary range [0, 64)");
    }
}
