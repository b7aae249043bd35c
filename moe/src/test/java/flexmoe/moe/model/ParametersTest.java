package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Names, shapes, init and the Hugging Face view of the parameters. */
class ParametersTest {

    @Test
    void moeTensorsHaveHuggingFaceNamesAndShapes() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(2, 2);
        Parameters p = Parameters.init(c, 1);
        List<String> names = new ArrayList<>();
        List<NamedTensor> hf = p.huggingFaceTensors();
        for (NamedTensor t : hf) {
            names.add(t.name() + java.util.Arrays.toString(t.shape()));
        }
        assertThat(names).startsWith("model.embed_tokens.weight[64, 32]",
                "model.layers.0.self_attn.q_proj.weight[32, 32]",
                "model.layers.0.self_attn.k_proj.weight[32, 32]",
                "model.layers.0.self_attn.v_proj.weight[32, 32]",
                "model.layers.0.self_attn.o_proj.weight[32, 32]",
                "model.layers.0.self_attn.q_norm.weight[32]",
                "model.layers.0.self_attn.k_norm.weight[32]",
                "model.layers.0.post_attention_layernorm.weight[32]",
                "model.layers.0.post_feedforward_layernorm.weight[32]",
                "model.layers.0.mlp.gate.weight[2, 32]",
                "model.layers.0.mlp.gate.expert_bias[2]",
                "model.layers.0.mlp.experts.0.gate_proj.weight[64, 32]",
                "model.layers.0.mlp.experts.0.up_proj.weight[64, 32]",
                "model.layers.0.mlp.experts.0.down_proj.weight[32, 64]",
                "model.layers.0.mlp.experts.1.gate_proj.weight[64, 32]");
        assertThat(names).endsWith("model.norm.weight[32]", "lm_head.weight[64, 32]");
        assertThat(names).hasSize(1 + 2 * (8 + 2 + 2 * 3) + 2);
        long hfCount = 0;
        for (NamedTensor t : hf) {
            hfCount += t.data().length;
        }
        // The internal tensors hold the same values, minus the public expert's (absent) bias per layer.
        assertThat(p.parameterCount()).isEqualTo(hfCount - c.layers());
        assertThat(p.tensor("model.layers.1.mlp.experts.1.gate_up_proj.weight").shape()).containsExactly(128, 32);
        assertThat(p.tensor("model.layers.1.mlp.gate.weight[1]").shape()).containsExactly(32);
        assertThat(p.tensor("model.layers.1.mlp.gate.expert_bias[1]").shape()).containsExactly(1);
    }

    @Test
    void denseModelUsesOlmo2FfnNames() {
        Parameters p = Parameters.init(ModelConfig.preset("tiny"), 1);
        List<String> names = new ArrayList<>();
        for (NamedTensor t : p.huggingFaceTensors()) {
            names.add(t.name());
        }
        assertThat(names).contains("model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                "model.layers.0.mlp.down_proj.weight");
        assertThat(names).noneMatch(n -> n.contains("experts") || n.contains("mlp.gate."));
    }

    @Test
    void huggingFaceRoundTripKeepsEveryBit() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(3, 2);
        Parameters p = Parameters.init(c, 9);
        ModelTesting.setBiases(p, 9, -1, 0);
        Parameters back = Parameters.fromHuggingFace(c, p.huggingFaceTensors());
        assertThat(back.tensors()).hasSameSizeAs(p.tensors());
        for (int i = 0; i < p.tensors().size(); i++) {
            Tensor a = p.tensors().get(i), b = back.tensors().get(i);
            assertThat(b.name()).isEqualTo(a.name());
            ModelTesting.assertBitsEqual(a.name(), b.data(), a.data());
            assertThat(b.data()).isNotSameAs(a.data());
        }
    }

    @Test
    void fromHuggingFaceNamesWhatIsWrong() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(2, 2);
        List<NamedTensor> hf = new ArrayList<>(Parameters.init(c, 1).huggingFaceTensors());
        List<NamedTensor> missing = new ArrayList<>(hf);
        missing.removeIf(t -> t.name().equals("model.layers.1.mlp.experts.1.up_proj.weight"));
        assertThatThrownBy(() -> Parameters.fromHuggingFace(c, missing))
                .hasMessage("fromHuggingFace: tensor model.layers.1.mlp.experts.1.up_proj.weight is missing");
        assertThatThrownBy(() -> Parameters.fromHuggingFace(c.withExperts(3, 2), hf))
                .hasMessage("fromHuggingFace: tensor model.layers.0.mlp.gate.weight has shape [2, 32], expected [3, 32]");
        List<NamedTensor> extra = new ArrayList<>(hf);
        extra.add(new NamedTensor("model.layers.2.self_attn.q_proj.weight", new int[] {1}, new float[1]));
        assertThatThrownBy(() -> Parameters.fromHuggingFace(c, extra))
                .hasMessage("fromHuggingFace: unexpected tensor model.layers.2.self_attn.q_proj.weight for a model"
                        + " with 2 layers and 2 experts");
    }

    @Test
    void initIsNormalWithTheConfiguredStdNormsOneBiasesZero() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(2, 2);
        Parameters p = Parameters.init(c, 3);
        for (Tensor t : p.tensors()) {
            switch (t.kind()) {
                case NORM -> assertThat(t.data()).as(t.name()).containsOnly(1f);
                case BIAS -> assertThat(t.data()).as(t.name()).containsOnly(0f);
                default -> {
                    double sum = 0, sq = 0;
                    for (float x : t.data()) {
                        sum += x;
                        sq += (double) x * x;
                    }
                    int n = t.size();
                    double std = Math.sqrt(sq / n - (sum / n) * (sum / n));
                    assertThat(std).as(t.name()).isBetween(0.02 * (1 - 6 / Math.sqrt(n)), 0.02 * (1 + 6 / Math.sqrt(n)));
                }
            }
            assertThat(t.trainable()).as("frozen by default").isFalse();
        }
        // gate and up halves of the fused tensor come from different streams.
        float[] gu = p.expert(0, 0).gateUp().data();
        int half = gu.length / 2;
        assertThat(java.util.Arrays.copyOfRange(gu, 0, 8)).isNotEqualTo(java.util.Arrays.copyOfRange(gu, half, half + 8));
    }

    @Test
    void trainableFlagOwnsTheGradientBuffer() {
        Parameters p = Parameters.init(ModelConfig.preset("tiny").withExperts(2, 2), 4);
        Tensor t = p.expert(1, 1).down();
        assertThat(t.grad()).isNull();
        t.setTrainable(true);
        assertThat(t.grad()).hasSize(t.size()).containsOnly(0f);
        t.grad()[0] = 1f;
        t.setTrainable(true);
        assertThat(t.grad()[0]).isEqualTo(1f);
        t.zeroGrad();
        assertThat(t.grad()[0]).isZero();
        t.setTrainable(false);
        assertThat(t.grad()).isNull();
        p.trainOnlyExpert(1);
        assertThat(p.trainable()).hasSize(2 * 4).allMatch(x -> x.name().contains("experts.1.") || x.name().endsWith("[1]"));
    }

    @Test
    void assemblyChecksNamesAndShapes() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 5);
        Tensor wrong = Tensor.zeros(ParameterNames.FINAL_NORM, Tensor.Kind.NORM, 31);
        assertThatThrownBy(() -> new Parameters(c, p.embedding(), p.layers(), wrong, p.lmHead()))
                .hasMessage("Parameters: tensor model.norm.weight has shape [31], expected [32]");
        assertThatThrownBy(() -> new Parameters(c, p.embedding(), p.layers(), p.lmHead(), p.lmHead()))
                .hasMessage("Parameters: expected tensor model.norm.weight, got lm_head.weight");
        assertThatThrownBy(() -> new Parameters(c.withExperts(2, 1), p.embedding(), p.layers(), p.finalNorm(),
                p.lmHead())).hasMessage("Parameters: layer 0 has 1 experts, config says 2");
        assertThatThrownBy(() -> new Tensor("x", Tensor.Kind.NORM, new float[3], 2, 2))
                .hasMessage("Tensor x: shape [2, 2] needs 4 values, data has 3");
    }
}
