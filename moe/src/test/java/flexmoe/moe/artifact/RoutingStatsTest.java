package flexmoe.moe.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.TokenBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Routing statistics against the model's own per-forward token shares. */
class RoutingStatsTest {

    private static Backend backend;
    private static ComposedModel composed;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
        PublicModelArtifact pub = ArtifactTesting.publicModel(1);
        composed = Composer.compose(pub, List.of(ArtifactTesting.expert(pub, "math", 2),
                ArtifactTesting.expert(pub, "code", 3)), 2);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void sharesAccumulateTheModelsPerForwardShares() throws IOException {
        FlexOlmoModel model = new FlexOlmoModel(composed.parameters(), backend);
        RoutingStats stats = RoutingStats.of(composed);
        int layers = composed.config().layers(), experts = composed.experts();
        double[][] expected = new double[layers][experts];
        int batches = 3, tokensPerBatch = 2 * 16;
        for (int b = 0; b < batches; b++) {
            TokenBatch batch = ArtifactTesting.randomBatch(composed.config(), 2, 16, 10 + b);
            model.forward(batch);
            stats.add("math", model);
            for (int l = 0; l < layers; l++) {
                double[] share = model.expertTokenShare(l);
                for (int e = 0; e < experts; e++) {
                    expected[l][e] += share[e] / batches;
                }
            }
        }
        model.forward(ArtifactTesting.randomBatch(composed.config(), 1, 16, 99));
        stats.add("code", model);

        assertThat(stats.domains()).containsExactly("math", "code");
        assertThat(stats.tokens("math")).isEqualTo((long) batches * tokensPerBatch);
        assertThat(stats.tokens("code")).isEqualTo(16);
        assertThat(stats.uniformShare()).isEqualTo(2.0 / 3);
        for (int l = 0; l < layers; l++) {
            double sum = 0;
            for (int e = 0; e < experts; e++) {
                assertThat(stats.share("math", l, e)).isCloseTo(expected[l][e], within(1e-12));
                sum += stats.share("math", l, e);
            }
            assertThat(sum).isCloseTo(2.0, within(1e-12)); // every token counts top-k = 2 distinct experts
        }

        String table = stats.table();
        assertThat(table).contains("layer 1: share of tokens whose top-2 includes the expert (uniform 0.667)")
                .contains("public").contains("math").contains("code");
        Path csv = dir.resolve("routing.csv");
        stats.writeCsv(csv);
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines.getFirst()).isEqualTo("layer,domain,expert,tokens,routed,share");
        assertThat(lines).hasSize(1 + layers * 2 * experts);
        assertThat(lines.get(1)).startsWith("0,math,public,96," + stats.routedTokens("math", 0, 0) + ",");
    }

    @Test
    void aMaskLeavesTokensOut() {
        FlexOlmoModel model = new FlexOlmoModel(composed.parameters(), backend);
        model.forward(ArtifactTesting.randomBatch(composed.config(), 1, 8, 4));
        boolean[] counted = {true, false, true, false, false, false, false, true};
        RoutingStats stats = RoutingStats.of(composed);
        stats.add("news", model, counted);

        assertThat(stats.tokens("news")).isEqualTo(3);
        int[] ids = model.topKIds(0);
        long routedToPublic = 0;
        for (int t = 0; t < 8; t++) {
            if (counted[t] && (ids[2 * t] == 0 || ids[2 * t + 1] == 0)) {
                routedToPublic++;
            }
        }
        assertThat(stats.routedTokens("news", 0, 0)).isEqualTo(routedToPublic);
        assertThatThrownBy(() -> stats.add("news", model, new boolean[3]))
                .hasMessage("routing statistics: counted has 3 entries, the last forward had 8 tokens");
        assertThatThrownBy(() -> stats.add("a,b", model)).hasMessageContaining("domain must be letters");
        ComposedModel other = composed.withTopK(1);
        assertThatThrownBy(() -> RoutingStats.of(other).add("news", model))
                .hasMessageContaining("the model has 3 experts (top-2)");
    }

    @Test
    void theDenseModelRoutesEveryTokenToThePublicExpert() {
        ComposedModel dense = composed.keepOnly(List.of());
        FlexOlmoModel model = new FlexOlmoModel(dense.parameters(), backend);
        model.forward(ArtifactTesting.randomBatch(dense.config(), 1, 8, 5));
        RoutingStats stats = RoutingStats.of(dense);
        stats.add("public", model);
        assertThat(stats.share("public", 0, 0)).isEqualTo(1.0);
        assertThat(stats.uniformShare()).isEqualTo(1.0);
    }
}
