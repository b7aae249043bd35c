package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RouterEmbeddingTest {

    @Test
    void rescaledKeepsTheDirectionAndSetsTheNorm() {
        float[] v = {3, -4, 0, 12};
        RouterEmbedding r = new RouterEmbedding("math", "hidden-mean", 10, v);
        assertThat(r.norm()).isCloseTo(13, within(1e-12));
        RouterEmbedding s = r.rescaled(0.5);
        assertThat(s.norm()).isCloseTo(0.5, within(1e-7));
        for (int i = 0; i < v.length; i++) {
            assertThat((double) s.vector()[i]).isCloseTo(v[i] * 0.5 / 13, within(1e-8));
        }
        assertThat(s.domain()).isEqualTo("math");
        assertThat(s.documents()).isEqualTo(10);
    }

    @Test
    void theVectorIsCopiedInAndOut() {
        float[] v = {1, 2};
        RouterEmbedding r = new RouterEmbedding("a", "random", 0, v);
        v[0] = 7;
        r.vector()[1] = 9;
        assertThat(r.vector()).containsExactly(1, 2);
        assertThat(r).isEqualTo(new RouterEmbedding("a", "random", 0, new float[] {1, 2}));
    }

    @Test
    void badVectorsAreRefused() {
        assertThatThrownBy(() -> new RouterEmbedding("a", "external", 1, new float[] {1, Float.POSITIVE_INFINITY}))
                .hasMessageContaining("RouterEmbedding a (external): value 1 is Infinity");
        assertThatThrownBy(() -> new RouterEmbedding("a", "external", 1, new float[0])).hasMessageContaining("empty");
        assertThatThrownBy(() -> new RouterEmbedding("a", "x", 1, new float[2]).rescaled(1))
                .hasMessageContaining("a zero vector cannot be rescaled");
        assertThatThrownBy(() -> new RouterEmbedding("a", "x", 1, new float[] {1}).rescaled(-1))
                .hasMessageContaining("must be finite and positive");
    }
}
