package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** FlexOlmo's router at model level: the bias enters as min(b, 0), only for experts >= 1. */
class RouterSemanticsTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static final ModelConfig C = ModelConfig.preset("tiny").withExperts(3, 2);

    @Test
    void aPositiveBiasHasNoEffect() {
        Parameters p = Parameters.init(C, 81);
        ModelForwardTest.scaleRouter(p, 10f);
        TokenBatch batch = ModelTesting.randomBatch(C, 2, 8, 81);
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        Loss zero = model.forward(batch);
        int[] idsZero = model.topKIds(0);
        for (int l = 0; l < C.layers(); l++) {
            p.expert(l, 1).bias().data()[0] = 3.5f;
            p.expert(l, 2).bias().data()[0] = 100f;
        }
        Loss positive = model.forward(batch);
        assertThat(positive).isEqualTo(zero);
        assertThat(model.topKIds(0)).isEqualTo(idsZero);

        for (int l = 0; l < C.layers(); l++) {
            p.expert(l, 1).bias().data()[0] = -3.5f;
        }
        Loss negative = model.forward(batch);
        assertThat(negative.total()).isNotEqualTo(zero.total());
        // A strongly negative bias pushes expert 1 out of (almost) every top-2.
        assertThat(model.expertTokenShare(0)[1]).isLessThan(0.25);
    }

    @Test
    void thePublicExpertNeverHasABias() {
        Parameters p = Parameters.init(C, 82);
        for (int l = 0; l < C.layers(); l++) {
            assertThat(p.expert(l, 0).bias()).isNull();
            assertThat(p.expert(l, 1).bias()).isNotNull();
            String name = ParameterNames.expertBias(l, 0);
            assertThatThrownBy(() -> p.tensor(name)).hasMessageContaining("no tensor named '" + name + "'");
        }
        // The exported bias vector has entry 0 = 0, and a model claiming a public-expert bias is refused.
        List<NamedTensor> hf = p.huggingFaceTensors();
        for (int i = 0; i < hf.size(); i++) {
            NamedTensor t = hf.get(i);
            if (t.name().equals(ParameterNames.expertBias(0))) {
                assertThat(t.data()).containsExactly(0f, 0f, 0f);
                t.data()[0] = -1f;
            }
        }
        assertThatThrownBy(() -> Parameters.fromHuggingFace(C, hf)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fromHuggingFace: model.layers.0.mlp.gate.expert_bias[0] must be 0 (the public expert"
                        + " has no bias), got -1.0");
    }

    @Test
    void biasAtZeroGetsHalfItsGradientAndAPositiveBiasNone() {
        Parameters p = Parameters.init(C, 83);
        p.trainAll();
        TokenBatch batch = ModelTesting.randomBatch(C, 2, 8, 83);
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        model.forwardBackward(batch);
        float atZero = p.expert(0, 1).bias().grad()[0];
        assertThat(atZero).isNotZero();
        p.zeroGrads();
        p.expert(0, 1).bias().data()[0] = -0f; // still min(b, 0) = 0 and b == 0
        model.forwardBackward(batch);
        assertThat(p.expert(0, 1).bias().grad()[0]).isEqualTo(atZero);
        p.zeroGrads();
        p.expert(0, 1).bias().data()[0] = 0.25f;
        model.forwardBackward(batch);
        assertThat(p.expert(0, 1).bias().grad()[0]).isZero();
        p.zeroGrads();
        p.expert(0, 1).bias().data()[0] = -1e-30f;
        model.forwardBackward(batch);
        assertThat(p.expert(0, 1).bias().grad()[0]).isEqualTo(2 * atZero);
    }

    @Test
    void denseModelHasNoRouter() {
        Parameters p = Parameters.init(ModelConfig.preset("tiny"), 84);
        for (Tensor t : p.tensors()) {
            assertThat(t.kind()).isNotIn(Tensor.Kind.ROUTER, Tensor.Kind.BIAS);
        }
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        Loss loss = model.forward(ModelTesting.randomBatch(p.config(), 1, 8, 84));
        assertThat(loss.routerZLoss()).isZero();
        assertThat(model.expertTokenShare(1)).containsExactly(1.0);
        assertThatThrownBy(() -> model.routerProbs(0)).hasMessage("routerProbs: a dense model has no router");
    }
}
