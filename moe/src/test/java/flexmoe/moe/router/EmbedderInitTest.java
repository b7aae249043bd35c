package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The paper's way with a stand-in embedder: directly at d_model, or through a projection fitted on public documents. */
class EmbedderInitTest {

    private static final ModelConfig TINY = ModelConfig.preset("tiny");
    private static Backend backend;
    private static HiddenMeanInit publicHidden;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
        publicHidden = new HiddenMeanInit(Parameters.init(TINY, 8), backend,
                RouterTesting.charTokenizer(TINY.vocabSize()));
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void directIsTheMeanOfTheEmbeddings() {
        DocumentEmbedder e = RouterTesting.hashingEmbedder("minilm", TINY.dim());
        List<String> docs = RouterTesting.documents("math", 9, 1);
        EmbedderInit init = EmbedderInit.forModel(e, publicHidden, RouterTesting.documents("public", 30, 2),
                EmbeddingProjection.DEFAULT_RIDGE, backend);
        assertThat(init.projection()).isNull();
        RouterEmbedding r = init.routerEmbedding("math", docs);
        assertThat(r.strategy()).isEqualTo("minilm");
        assertThat(r.documents()).isEqualTo(9);
        float[] rows = new float[9 * TINY.dim()];
        for (int i = 0; i < 9; i++) {
            System.arraycopy(e.embed(docs.get(i)), 0, rows, i * TINY.dim(), TINY.dim());
        }
        ExternalEmbeddingInitTest.assertClose(r.vector(), RouterTesting.mean(rows, 9, TINY.dim()), 1e-6);
        assertThat(init.routerEmbedding("math", docs)).isEqualTo(r);
    }

    /**
     * Another width goes through the projection, fitted on public documents only: it does not depend on any private
     * domain, and the public domain's own mean embedding projects onto the public hidden-mean vector (the projection
     * is affine and the regression has an intercept), so r_pub agrees between the two strategies.
     */
    @Test
    void otherWidthsGoThroughAProjectionFittedOnPublicDocuments() {
        DocumentEmbedder e = RouterTesting.hashingEmbedder("minilm", 20);
        List<String> pub = RouterTesting.documents("public", 40, 3);
        EmbedderInit init = EmbedderInit.forModel(e, publicHidden, pub, EmbeddingProjection.DEFAULT_RIDGE, backend);
        assertThat(init.projection()).isNotNull();
        assertThat(init.projection().documents()).isEqualTo(40);
        assertThat(init.width()).isEqualTo(TINY.dim());
        assertThat(init.embedderWidth()).isEqualTo(20);

        RouterEmbedding rPub = init.routerEmbedding("public", pub);
        ExternalEmbeddingInitTest.assertClose(rPub.vector(), toDouble(publicHidden.routerEmbedding("public", pub)
                .vector()), 1e-4);
        RouterEmbedding rMath = init.routerEmbedding("math", RouterTesting.documents("math", 10, 4));
        assertThat(rMath.width()).isEqualTo(TINY.dim());
        assertThat(rMath.vector()).isNotEqualTo(rPub.vector());
        assertThat(EmbedderInit.forModel(e, publicHidden, pub, EmbeddingProjection.DEFAULT_RIDGE, backend).projection())
                .isEqualTo(init.projection());
    }

    @Test
    void badEmbeddersAreCaught() {
        DocumentEmbedder wrong = new DocumentEmbedder() {
            public String name() {
                return "broken";
            }

            public int width() {
                return 4;
            }

            public float[] embed(String document) {
                return document.equals("nan") ? new float[] {0, Float.NaN, 0, 0} : new float[3];
            }
        };
        EmbedderInit init = EmbedderInit.direct(wrong, backend);
        assertThatThrownBy(() -> init.routerEmbedding("x", List.of("a")))
                .hasMessageContaining("embedder broken: document 0 gave 3 values, expected 4");
        assertThatThrownBy(() -> init.routerEmbedding("x", List.of("nan")))
                .hasMessageContaining("embedder broken: document 0 value 1 is NaN");
        assertThatThrownBy(() -> init.routerEmbedding("x", List.of())).hasMessageContaining("no documents");
        EmbeddingProjection p = EmbeddingProjection.fit(RouterTesting.randomValues(10 * 5, 1),
                RouterTesting.randomValues(10 * 2, 2), 10, 5, 2, 0.1, backend);
        assertThatThrownBy(() -> EmbedderInit.projected(wrong, p, backend))
                .hasMessageContaining("the projection takes width 5, the embedder broken gives 4");
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
