package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ModelFlopsTest {

    @Test
    void paperMiniCounts() {
        ModelConfig dense = ModelConfig.preset("paper-mini");
        // per layer 4·256² + 3·256·1024 = 1,048,576; 4 layers + LM head 4096·256.
        assertThat(ModelFlops.activeMatmulParameters(dense)).isEqualTo(4 * 1_048_576L + 1_048_576L);
        assertThat(ModelFlops.trainingFlopsPerToken(dense, 256)).isEqualTo(6.0 * 5_242_880 + 12.0 * 4 * 256 * 256);
        ModelConfig moe = dense.withExperts(2, 2);
        // two active experts and a 2-row router per layer.
        assertThat(ModelFlops.activeMatmulParameters(moe)).isEqualTo(
                4 * (4L * 256 * 256 + 2L * 3 * 256 * 1024 + 2 * 256) + 4096L * 256);
        assertThat(ModelFlops.forwardFlopsPerToken(moe, 256)).isEqualTo(ModelFlops.trainingFlopsPerToken(moe, 256) / 3);
    }

    @Test
    void activeCountMatchesTheParametersAModelTokenTouches() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(3, 3);
        Parameters p = Parameters.init(c, 1);
        long matmul = 0;
        for (Tensor t : p.tensors()) {
            if (t.kind() == Tensor.Kind.LINEAR || t.kind() == Tensor.Kind.ROUTER) {
                matmul += t.size();
            }
        }
        // With every expert active, N is every matrix parameter (the embedding is a lookup).
        assertThat(ModelFlops.activeMatmulParameters(c)).isEqualTo(matmul);
    }
}
