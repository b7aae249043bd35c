package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RandomInitTest {

    @Test
    void seededPerDomainAndIndependentOfTheDocuments() {
        RandomInit init = new RandomInit(64, 0.02, 9);
        RouterEmbedding a = init.routerEmbedding("math", List.of());
        assertThat(a.width()).isEqualTo(64);
        assertThat(a.strategy()).isEqualTo("random");
        assertThat(a.documents()).isZero();
        assertThat(init.routerEmbedding("math", List.of("any", "documents")).vector()).isEqualTo(a.vector());
        assertThat(new RandomInit(64, 0.02, 9).routerEmbedding("math", List.of()).vector()).isEqualTo(a.vector());
        assertThat(init.routerEmbedding("news", List.of()).vector()).isNotEqualTo(a.vector());
        assertThat(new RandomInit(64, 0.02, 10).routerEmbedding("math", List.of()).vector()).isNotEqualTo(a.vector());
    }

    @Test
    void normalWithTheGivenStd() {
        int n = 20_000;
        float[] v = new RandomInit(n, 0.02, 1).routerEmbedding("public", List.of()).vector();
        double sum = 0, sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / n;
        // Standard errors: 0.02 / sqrt(n) = 1.4e-4 for the mean, ~0.5% for the std.
        assertThat(mean).isCloseTo(0, within(6e-4));
        assertThat(Math.sqrt(sq / n - mean * mean)).isCloseTo(0.02, within(0.02 * 0.03));
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new RandomInit(0, 0.02, 1)).hasMessageContaining("width must be at least 1");
        assertThatThrownBy(() -> new RandomInit(8, 0, 1)).hasMessageContaining("std must be finite and positive");
        assertThatThrownBy(() -> new RandomInit(8, Double.NaN, 1)).hasMessageContaining("std must be finite");
    }
}
