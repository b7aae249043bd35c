package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.TokenBatch;
import flexmoe.moe.tokenizer.Tokenizer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hidden-mean: mean-pooled final hidden states of the public model, batched and padded, per document and per domain. */
class HiddenMeanInitTest {

    private static final ModelConfig TINY = ModelConfig.preset("tiny");
    private static Backend backend;
    private static Parameters publicModel;
    private static final Tokenizer TOKENIZER = RouterTesting.charTokenizer(TINY.vocabSize());

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
        publicModel = Parameters.init(TINY, 3);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    /**
     * Batches of 3 padded windows give each document the mean of its own forward alone ([EOS, tokens], no padding),
     * up to float rounding; documents longer than the window are cut to maxSeqLen - 1 tokens.
     */
    @Test
    void documentMeansMatchEachDocumentsOwnForward() {
        List<String> docs = List.of("abc", "a longer document than the window", "x", "hello world", "tokens!");
        HiddenMeanInit init = new HiddenMeanInit(publicModel, backend, TOKENIZER, 3);
        float[] means = init.documentMeans(docs);
        int d = TINY.dim();
        assertThat(means).hasSize(docs.size() * d);
        for (int i = 0; i < docs.size(); i++) {
            double[] expected = aloneMean(docs.get(i));
            float[] got = java.util.Arrays.copyOfRange(means, i * d, (i + 1) * d);
            ExternalEmbeddingInitTest.assertClose(got, expected, 1e-5);
        }
    }

    @Test
    void longDocumentsAreCutToTheWindow() {
        HiddenMeanInit init = new HiddenMeanInit(publicModel, backend, TOKENIZER);
        String longDoc = "abcdefghijklmnopqrstuvwxyz0123456789";
        String cut = longDoc.substring(0, TINY.maxSeqLen() - 1);
        assertThat(init.documentMeans(List.of(longDoc))).isEqualTo(init.documentMeans(List.of(cut)));
        assertThat(init.documentMeans(List.of(longDoc)))
                .isNotEqualTo(init.documentMeans(List.of(cut.substring(0, cut.length() - 1))));
    }

    @Test
    void theDomainVectorIsTheMeanOfTheDocumentVectorsAndIsDeterministic() {
        List<String> docs = RouterTesting.documents("math", 11, 4);
        HiddenMeanInit init = new HiddenMeanInit(publicModel, backend, TOKENIZER, 4);
        RouterEmbedding r = init.routerEmbedding("math", docs);
        assertThat(r.strategy()).isEqualTo("hidden-mean");
        assertThat(r.documents()).isEqualTo(11);
        assertThat(r.width()).isEqualTo(TINY.dim());
        ExternalEmbeddingInitTest.assertClose(r.vector(),
                RouterTesting.mean(init.documentMeans(docs), docs.size(), TINY.dim()), 1e-6);
        assertThat(new HiddenMeanInit(publicModel, backend, TOKENIZER, 4).routerEmbedding("math", docs))
                .isEqualTo(r);
        // Another domain's documents give another vector.
        assertThat(init.routerEmbedding("news", RouterTesting.documents("news", 11, 4)).vector())
                .isNotEqualTo(r.vector());
    }

    @Test
    void badInputsAreRefused() {
        HiddenMeanInit init = new HiddenMeanInit(publicModel, backend, TOKENIZER);
        assertThatThrownBy(() -> init.documentMeans(List.of())).hasMessageContaining("no documents");
        assertThatThrownBy(() -> init.documentMeans(List.of("ok", ""))).hasMessageContaining("document 1 has no tokens");
        assertThatThrownBy(() -> new HiddenMeanInit(publicModel, backend, RouterTesting.charTokenizer(65)))
                .hasMessageContaining("the tokenizer has 65 tokens, the public model's vocabulary only 64");
        assertThatThrownBy(() -> new HiddenMeanInit(publicModel, backend, TOKENIZER, 0))
                .hasMessageContaining("batch must be at least 1");
    }

    /** The document alone: one sequence [EOS, tokens] without padding; mean of positions 1..n in double. */
    private static double[] aloneMean(String doc) {
        int[] ids = TOKENIZER.encode(doc);
        int n = Math.min(ids.length, TINY.maxSeqLen() - 1);
        int[] in = new int[n + 1];
        in[0] = TOKENIZER.eosId();
        System.arraycopy(ids, 0, in, 1, n);
        FlexOlmoModel m = new FlexOlmoModel(publicModel, backend);
        m.forward(new TokenBatch(in, null, 1, n + 1));
        float[] h = m.finalHidden();
        int d = TINY.dim();
        double[] mean = new double[d];
        for (int t = 1; t <= n; t++) {
            for (int j = 0; j < d; j++) {
                mean[j] += h[t * d + j] / (double) n;
            }
        }
        return mean;
    }
}
