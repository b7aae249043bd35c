package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad configs and bad inputs fail with one-line messages naming the field. */
class ValidationTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static ModelConfig config(int dim, int heads, int experts, int topK) {
        return new ModelConfig(64, dim, 2, heads, 64, 16, 500_000, 1e-6, experts, topK, 1e-3, 0, 0.02);
    }

    @Test
    void badConfigs() {
        assertThatThrownBy(() -> config(30, 4, 1, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ModelConfig.heads: dim 30 is not divisible by heads 4");
        assertThatThrownBy(() -> config(30, 2, 1, 1))
                .hasMessage("ModelConfig.heads: head width dim / heads = 15 must be even (rotate-half RoPE pairs i,"
                        + " i + hd/2)");
        assertThatThrownBy(() -> config(32, 2, 2, 3)).hasMessage("ModelConfig.topK: must be in [1, experts = 2], got 3");
        assertThatThrownBy(() -> config(32, 2, 2, 0)).hasMessage("ModelConfig.topK: must be in [1, experts = 2], got 0");
        assertThatThrownBy(() -> config(32, 2, 0, 1)).hasMessage("ModelConfig.experts: must be at least 1, got 0");
        assertThatThrownBy(() -> config(0, 2, 1, 1)).hasMessage("ModelConfig.dim: must be at least 1, got 0");
        assertThatThrownBy(() -> ModelConfig.preset("tiny").withZLoss(-1, 0))
                .hasMessage("ModelConfig.routerZLossWeight: must be finite and non-negative, got -1.0");
        assertThatThrownBy(() -> ModelConfig.preset("tiny").withZLoss(0, Double.NaN))
                .hasMessage("ModelConfig.lmHeadZLossWeight: must be finite and non-negative, got NaN");
        assertThatThrownBy(() -> new ModelConfig(64, 32, 2, 2, 64, 16, 0, 1e-6, 1, 1, 1e-3, 0, 0.02))
                .hasMessage("ModelConfig.ropeTheta: must be finite and positive, got 0.0");
        assertThatThrownBy(() -> new ModelConfig(64, 32, 2, 2, 64, 16, 5e5, 1e-6, 1, 1, 1e-3, 0, -0.02))
                .hasMessage("ModelConfig.initStd: must be finite and positive, got -0.02");
        assertThatThrownBy(() -> ModelConfig.preset("huge"))
                .hasMessage("model preset 'huge' is unknown (known: tiny, quick, paper-mini)");
    }

    @Test
    void presetsAreAsDocumented() {
        ModelConfig quick = ModelConfig.preset("quick");
        assertThat(quick).isEqualTo(ModelConfig.dense(4096, 128, 4, 4, 512, 128));
        ModelConfig mini = ModelConfig.preset("paper-mini");
        assertThat(mini).isEqualTo(ModelConfig.dense(4096, 256, 4, 4, 1024, 256));
        assertThat(mini.headDim()).isEqualTo(64);
        assertThat(mini.ropeTheta()).isEqualTo(500_000);
        assertThat(mini.normEps()).isEqualTo(1e-6);
        assertThat(mini.routerZLossWeight()).isEqualTo(1e-3);
        assertThat(mini.lmHeadZLossWeight()).isZero();
        assertThat(mini.isDense()).isTrue();
        assertThat(mini.withExperts(2, 2).isDense()).isFalse();
        assertThat(ModelConfig.presetNames()).containsExactly("tiny", "quick", "paper-mini");
    }

    @Test
    void badBatches() {
        ModelConfig c = ModelConfig.preset("tiny");
        FlexOlmoModel model = new FlexOlmoModel(Parameters.init(c, 1), backend);
        assertThatThrownBy(() -> model.forward(new int[6], new int[5], 2, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TokenBatch.targets: length 5 != inputs length 6");
        assertThatThrownBy(() -> model.forward(new int[6], new int[6], 2, 4))
                .hasMessage("TokenBatch.inputs: length 6 != batch 2 * seq 4 = 8");
        assertThatThrownBy(() -> model.forward(new int[34], new int[34], 2, 17))
                .hasMessage("forward: seq 17 exceeds maxSeqLen 16");
        int[] ids = new int[8];
        ids[5] = 64;
        assertThatThrownBy(() -> model.forward(ids, new int[8], 2, 4))
                .hasMessage("forward: inputs[5] = 64 is out of the vocabulary range [0, 64)");
        ids[5] = -1;
        assertThatThrownBy(() -> model.forward(ids, new int[8], 2, 4))
                .hasMessage("forward: inputs[5] = -1 is out of the vocabulary range [0, 64)");
        int[] targets = new int[8];
        targets[3] = -2;
        assertThatThrownBy(() -> model.forward(new int[8], targets, 2, 4))
                .hasMessage("forward: targets[3] = -2 is out of range [-1, 64) (-1 = no loss)");
        assertThatThrownBy(() -> model.forward(null, null, 1, 1)).hasMessage("TokenBatch.inputs: is null");
        assertThatThrownBy(() -> model.forward(new int[0], null, 0, 1)).hasMessage("TokenBatch.batch: must be at least 1, got 0");
    }

    @Test
    void backwardNeedsAForwardWithTargetsEachTime() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 2);
        p.trainAll();
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        assertThatThrownBy(model::backward).isInstanceOf(IllegalStateException.class)
                .hasMessage("backward: needs a forward with targets first (one backward per forward)");
        TokenBatch batch = ModelTesting.randomBatch(c, 1, 8, 2);
        assertThat(model.forward(ModelTesting.withoutTargets(batch))).isNull();
        assertThatThrownBy(model::backward).isInstanceOf(IllegalStateException.class);
        model.forward(batch);
        model.backward();
        assertThatThrownBy(model::backward).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> model.topKIds(2)).hasMessage("topKIds: layer must be in [0, 2), got 2");
    }

    @Test
    void allTargetsIgnoredGivesZeroLossAndZeroGradient() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 3);
        p.trainAll();
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        int[] targets = new int[8];
        java.util.Arrays.fill(targets, -1);
        Loss loss = model.forward(new int[8], targets, 1, 8);
        assertThat(loss.total()).isZero();
        assertThat(loss.validTokens()).isZero();
        model.backward();
        for (Tensor t : p.tensors()) {
            assertThat(t.grad()).as(t.name()).containsOnly(0f);
        }
    }
}
