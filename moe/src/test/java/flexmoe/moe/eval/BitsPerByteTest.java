package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.generate.TestModels;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.BpeTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BitsPerByteTest {

    private static final BpeTokenizer TOK = EvalFixtures.TOKENIZER;
    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 2);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    /** Short documents that fit one window of the tiny model (16 positions) with the leading end token. */
    private static List<String> shortDocuments() {
        List<String> docs = new ArrayList<>();
        for (String d : EvalFixtures.documents(2, 40)) {
            int chars = 40;
            while (TOK.encode(d.substring(0, chars)).length > 15) {
                chars--;
            }
            docs.add(d.substring(0, chars));
        }
        assertThat(docs).hasSizeGreaterThan(3);
        return docs;
    }

    @Test
    void shortDocumentsGiveTheTrainingForwardsNllOverTheirBytes() {
        Parameters p = EvalFixtures.moe(3);
        List<String> docs = shortDocuments();
        BitsPerByte.Result r = new BitsPerByte(new SequenceScorer(p, backend, 3, 16), TOK, 16).evaluate("news", docs);
        double nats = 0;
        long bytes = 0, tokens = 0;
        for (String d : docs) {
            int[] ids = TOK.encode(d);
            int[] inputs = new int[ids.length];
            inputs[0] = TOK.eosId();
            System.arraycopy(ids, 0, inputs, 1, ids.length - 1);
            nats += EvalFixtures.trainingForwardNll(p, backend, inputs, ids);
            bytes += d.getBytes(StandardCharsets.UTF_8).length;
            tokens += ids.length;
        }
        assertThat(r.domain()).isEqualTo("news");
        assertThat(r.documents()).isEqualTo(docs.size());
        assertThat(r.bytes()).isEqualTo(bytes);
        assertThat(r.tokens()).isEqualTo(tokens);
        assertThat(r.nats()).isCloseTo(nats, within(1e-5 * nats));
        assertThat(r.bitsPerByte()).isCloseTo(nats / (Math.log(2) * bytes), within(1e-5));
        assertThat(r.routingShare()).hasDimensions(2, 3);
        for (double[] layer : r.routingShare()) {
            assertThat(Arrays.stream(layer).sum()).isCloseTo(2.0, within(1e-9));
        }
    }

    @Test
    void aUniformModelGivesLog2VocabBitsPerTokenWhateverTheWindows() {
        // A zero LM head makes every logit 0: each scored token costs ln V nats, so the total counts how many
        // tokens were scored. Long documents cross many windows; each token must be scored exactly once.
        Parameters p = EvalFixtures.dense(4);
        Arrays.fill(p.lmHead().data(), 0f);
        List<String> docs = EvalFixtures.documents(5, 6);
        long tokens = 0, bytes = 0;
        for (String d : docs) {
            tokens += TOK.encode(d).length;
            bytes += d.getBytes(StandardCharsets.UTF_8).length;
        }
        assertThat(tokens).as("documents much longer than a window").isGreaterThan(20 * 16);
        double lnV = Math.log(TOK.vocabSize());
        for (int stride : new int[] {16, 8, 1}) {
            BitsPerByte.Result r = new BitsPerByte(new SequenceScorer(p, backend, 4, 16), TOK, stride)
                    .evaluate("math", docs);
            assertThat(r.tokens()).isEqualTo(tokens);
            assertThat(r.bytes()).isEqualTo(bytes);
            assertThat(r.nats()).as("stride %d", stride).isCloseTo(tokens * lnV, within(1e-6 * tokens * lnV));
            assertThat(r.bitsPerByte()).isCloseTo(tokens * lnV / Math.log(2) / bytes, within(1e-6));
            assertThat(r.routingShare()).as("dense: one expert, always used").isDeepEqualTo(new double[][] {{1}, {1}});
        }
    }

    @Test
    void aSmallerStrideGivesLaterTokensMoreContextButTheSameTokens() {
        Parameters p = EvalFixtures.moe(6);
        List<String> docs = EvalFixtures.documents(7, 2);
        SequenceScorer scorer = new SequenceScorer(p, backend, 4, 16);
        BitsPerByte.Result disjoint = new BitsPerByte(scorer, TOK, 16).evaluate("code", docs);
        BitsPerByte.Result sliding = new BitsPerByte(scorer, TOK, 4).evaluate("code", docs);
        assertThat(sliding.tokens()).isEqualTo(disjoint.tokens());
        assertThat(sliding.nats()).isNotEqualTo(disjoint.nats());
        assertThat(sliding.bitsPerByte()).isFinite().isPositive();
    }

    @Test
    void documentOrderDoesNotMatter() {
        Parameters p = EvalFixtures.moe(8);
        List<String> docs = new ArrayList<>(EvalFixtures.documents(9, 5));
        SequenceScorer scorer = new SequenceScorer(p, backend, 3, 16);
        BitsPerByte.Result forward = new BitsPerByte(scorer, TOK, 16).evaluate("forum", docs);
        Collections.reverse(docs);
        BitsPerByte.Result backward = new BitsPerByte(scorer, TOK, 16).evaluate("forum", docs);
        assertThat(backward.nats()).isCloseTo(forward.nats(), within(1e-5 * forward.nats()));
        assertThat(backward.tokens()).isEqualTo(forward.tokens());
    }

    @Test
    void badSettingsGiveOneLineErrors() {
        SequenceScorer tinyVocab = new SequenceScorer(TestModels.tinyDense(10), backend, 2, 16);
        assertThatThrownBy(() -> new BitsPerByte(tinyVocab, TOK, 16))
                .hasMessage("the tokenizer has " + TOK.vocabSize() + " tokens but the model's vocabulary has 64: use"
                        + " the tokenizer the model was trained with");
        SequenceScorer scorer = new SequenceScorer(EvalFixtures.dense(11), backend, 2, 16);
        assertThatThrownBy(() -> new BitsPerByte(scorer, TOK, 17)).hasMessage("bits per byte: stride must be in [1, 16],"
                + " got 17");
        assertThatThrownBy(() -> new BitsPerByte(scorer, TOK, 16).evaluate("news", List.of()))
                .hasMessage("bits per byte: domain 'news' has no documents");
    }
}
