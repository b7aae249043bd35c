package flexmoe.experiments.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.router.EmbedderInit;
import flexmoe.moe.router.RouterEmbedding;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real all-MiniLM-L6-v2 on a few sentences this test writes: width, determinism, similarity, domain means. */
class MiniLmEmbedderTest {

    private static MiniLmEmbedder embedder;
    private static Backend backend;

    @BeforeAll
    static void setUp() {
        embedder = new MiniLmEmbedder();
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void unitVectorsOfWidth384AndDeterministic() {
        float[] a = embedder.embed("The integral of a polynomial is computed term by term.");
        assertThat(a).hasSize(MiniLmEmbedder.WIDTH);
        assertThat(norm(a)).isCloseTo(1.0, within(1e-3));
        assertThat(embedder.embed("The integral of a polynomial is computed term by term.")).isEqualTo(a);
        assertThat(new MiniLmEmbedder().embed("The integral of a polynomial is computed term by term."))
                .isEqualTo(a);
    }

    @Test
    void similarSentencesAreCloserThanUnrelatedOnes() {
        float[] math1 = embedder.embed("We prove that every prime number greater than two is odd.");
        float[] math2 = embedder.embed("The proof shows that all primes above 2 are odd numbers.");
        float[] news = embedder.embed("The city council voted on the new budget for public transport yesterday.");
        float[] cook = embedder.embed("Whisk the eggs with sugar, then fold in the flour and bake for twenty minutes.");
        assertThat(cosine(math1, math2)).isGreaterThan(cosine(math1, news)).isGreaterThan(0.5);
        assertThat(cosine(math1, math2)).isGreaterThan(cosine(math1, cook));
        assertThat(cosine(news, cook)).isLessThan(cosine(math1, math2));
    }

    @Test
    void longDocumentsAreCutToMaxChars() {
        String head = "Moby Dick is a whale. ".repeat(20);
        MiniLmEmbedder short40 = new MiniLmEmbedder(40);
        assertThat(short40.embed(head + "A different ending about stock markets and inflation."))
                .isEqualTo(short40.embed(head.substring(0, 40)));
        assertThatThrownBy(() -> embedder.embed("   ")).hasMessageContaining("minilm: cannot embed an empty");
        assertThatThrownBy(() -> new MiniLmEmbedder(0)).hasMessageContaining("maxChars must be at least 1");
    }

    /**
     * The paper's init at d_model = 384: used directly, the domain mean of unit vectors has a norm below 1 (the
     * paper's GritLM means: 0.41-0.55) and two domains' means differ.
     */
    @Test
    void domainMeansThroughTheRouterInit() {
        EmbedderInit init = EmbedderInit.direct(embedder, backend);
        assertThat(init.strategy()).isEqualTo("minilm");
        RouterEmbedding math = init.routerEmbedding("math", List.of(
                "Let f be a continuous function on a closed interval.",
                "The determinant of a triangular matrix is the product of its diagonal.",
                "By induction, the sum of the first n odd numbers is n squared."));
        RouterEmbedding news = init.routerEmbedding("news", List.of(
                "The minister resigned after the election results were announced.",
                "Police closed the bridge after a lorry crashed on Tuesday morning.",
                "Markets fell sharply as investors worried about rising interest rates."));
        assertThat(math.width()).isEqualTo(384);
        assertThat(math.norm()).isLessThan(1).isGreaterThan(0.2);
        assertThat(cosine(math.vector(), news.vector())).isLessThan(0.9);
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
        }
        return dot / (norm(a) * norm(b));
    }
}
