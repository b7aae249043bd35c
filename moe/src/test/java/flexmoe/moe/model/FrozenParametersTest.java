package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Expert training freezes everything but one expert (FFN, router row, bias in every layer). The backward must
 * then give those tensors exactly the gradient the full backward gives them, leave every other tensor without
 * a gradient, and skip the frozen work (counted on a wrapping backend).
 */
class FrozenParametersTest {

    private static Backend jvm;

    @BeforeAll
    static void setUp() {
        jvm = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        jvm.close();
    }

    @Test
    void expertTrainingOnTwoExpertsMatchesTheFullGradientAndSkipsFrozenWork() {
        checkExpertOnly(ModelConfig.preset("tiny").withExperts(2, 2).withZLoss(1e-3, 1e-5), 71);
    }

    @Test
    void expertTrainingAmongThreeExpertsTopTwo() {
        checkExpertOnly(ModelConfig.preset("tiny").withExperts(3, 2), 72);
    }

    private static void checkExpertOnly(ModelConfig c, long seed) {
        Parameters p = Parameters.init(c, seed);
        ModelTesting.setBiases(p, seed, -0.3, -0.01);
        ModelForwardTest.scaleRouter(p, 10f);
        TokenBatch batch = ModelTesting.randomBatch(c, 2, 16, seed);

        p.trainAll();
        FlexOlmoModel full = new FlexOlmoModel(p, jvm);
        Loss fullLoss = full.forwardBackward(batch);
        List<Tensor> expert1 = expertTensors(p, 1);
        List<float[]> fullGrads = ModelTesting.grads(expert1);

        p.trainOnlyExpert(1);
        p.zeroGrads();
        CountingBackend counting = new CountingBackend(jvm);
        FlexOlmoModel frozen = new FlexOlmoModel(p, counting);
        frozen.forward(batch);
        counting.reset();
        frozen.backward();
        assertThat(frozen.forward(batch).total()).isEqualTo(fullLoss.total());

        assertThat(p.trainable()).containsExactlyInAnyOrderElementsOf(expert1);
        for (Tensor t : p.tensors()) {
            if (!expert1.contains(t)) {
                assertThat(t.grad()).as(t.name()).isNull();
            }
        }
        for (int i = 0; i < expert1.size(); i++) {
            ModelTesting.assertBitsEqual(expert1.get(i).name(), expert1.get(i).grad(), fullGrads.get(i));
            assertThat(expert1.get(i).grad()).as(expert1.get(i).name() + " is really trained")
                    .isNotEqualTo(new float[expert1.get(i).size()]);
        }

        // What ran: only the trainable weight gradients (W2, W13 of expert 1 per layer), no attention backward
        // below the lowest trained layer, no embedding or LM-head gradient.
        int layers = c.layers();
        assertThat(counting.count("matmulTN")).as(counting.counts().toString()).isEqualTo(2 * layers);
        assertThat(counting.count("attentionBackward")).isEqualTo(layers - 1);
        assertThat(counting.count("embeddingBackward")).isZero();
        assertThat(counting.count("routerLinearBackward")).isEqualTo(layers);
        int expertsWithRows = 0;
        for (double share : frozen.expertTokenShare(layers - 1)) {
            expertsWithRows += share > 0 ? 1 : 0;
        }
        assertThat(expertsWithRows).isEqualTo(c.experts());
        // matmul (input gradients): LM head 1; upper layers 2 per expert + 4 attention; the lowest layer only
        // expert 1's dS (no input gradient leaves it).
        assertThat(counting.count("matmul")).isEqualTo(1 + (layers - 1) * (2 * c.experts() + 4) + 1);
    }

    private static List<Tensor> expertTensors(Parameters p, int e) {
        List<Tensor> list = new java.util.ArrayList<>();
        for (LayerParameters l : p.layers()) {
            list.addAll(l.expert(e).tensors());
        }
        return list;
    }

    @Test
    void nothingTrainableMeansNoBackwardWork() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 73);
        CountingBackend counting = new CountingBackend(jvm);
        FlexOlmoModel model = new FlexOlmoModel(p, counting);
        model.forward(ModelTesting.randomBatch(c, 1, 8, 73));
        counting.reset();
        model.backward();
        assertThat(counting.counts()).isEmpty();
    }

    @Test
    void onlyTheLmHeadTrainableStopsAtTheHead() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(2, 1);
        Parameters p = Parameters.init(c, 74);
        p.setTrainable(t -> t == p.lmHead());
        CountingBackend counting = new CountingBackend(jvm);
        FlexOlmoModel model = new FlexOlmoModel(p, counting);
        model.forward(ModelTesting.randomBatch(c, 1, 8, 74));
        counting.reset();
        model.backward();
        assertThat(counting.counts()).containsOnlyKeys("crossEntropyBackward", "matmulTN");
    }

    @Test
    void trainOnlyExpertNeedsAnMoeExpertOtherThanThePublicOne() {
        Parameters dense = Parameters.init(ModelConfig.preset("tiny"), 1);
        assertThatThrownBy(() -> dense.trainOnlyExpert(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("trainOnlyExpert: expert must be in [1, 1)");
        Parameters moe = Parameters.init(ModelConfig.preset("tiny").withExperts(2, 2), 1);
        assertThatThrownBy(() -> moe.trainOnlyExpert(0)).hasMessageContaining("expert 0 is the frozen public expert");
        assertThatThrownBy(() -> moe.trainOnlyExpert(2)).hasMessageContaining("got 2");
    }
}
