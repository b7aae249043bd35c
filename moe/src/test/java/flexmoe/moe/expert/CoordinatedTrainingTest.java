package flexmoe.moe.expert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.model.TokenBatch;
import flexmoe.moe.router.RouterEmbedding;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.Trainer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Upcycling for coordinated training: the function of the dense model is kept, exactly FFN_1, r_1 (and b_1) train,
 * everything else stays bit-identical through Trainer steps, and the no-bias ablation keeps b at exactly 0.
 */
class CoordinatedTrainingTest {

    private static final ModelConfig TINY = ModelConfig.preset("tiny");
    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    /**
     * r_pub == r_i and b_1 = 0: both router logits are equal, so each gate is exp(0) / 2 = 1/2 exactly; both
     * experts compute the same rows with the same GEMM; 1/2 y + 1/2 y = y exactly. So the upcycled model gives
     * the dense model's final hidden states and logits bit for bit.
     */
    @Test
    void upcycledModelGivesTheDenseLogitsBitForBitWhenBothRoutersAreEqual() {
        Parameters dense = Parameters.init(TINY, 11);
        float[] r = ExpertTesting.vector(TINY.dim(), 0.3, 12);
        Parameters moe = CoordinatedTraining.upcycle(dense, r, r, ExpertBias.none(), 0);
        TokenBatch batch = ExpertTesting.batch(TINY, 2, TINY.maxSeqLen(), 13);

        float[] hDense = hidden(dense, batch);
        float[] hMoe = hidden(moe, batch);
        assertThat(hMoe).isEqualTo(hDense);
        assertThat(logits(moe, hMoe)).isEqualTo(logits(dense, hDense));
    }

    /**
     * Any r_pub, r_i and b_1: the gates p0 + p1 sum to 1 up to float rounding (one ulp-level error per token), so
     * the logits agree with the dense model within float rounding, not bit for bit.
     */
    @Test
    void upcycledModelGivesTheDenseLogitsWithinRoundingForAnyRouters() {
        Parameters dense = Parameters.init(TINY, 21);
        Parameters moe = CoordinatedTraining.upcycle(dense, ExpertTesting.vector(TINY.dim(), 0.5, 22),
                ExpertTesting.vector(TINY.dim(), 0.5, 23), ExpertBias.trained(-0.3), 1e-5);
        TokenBatch batch = ExpertTesting.batch(TINY, 2, TINY.maxSeqLen(), 24);
        float[] ld = logits(dense, hidden(dense, batch));
        FlexOlmoModel m = new FlexOlmoModel(moe, backend);
        m.forward(batch);
        float[] lm = logits(moe, m.finalHidden());
        // The routers really disagree: some tokens give the expert well under half.
        float[] probs = m.routerProbs(0);
        double minP1 = 1;
        for (int t = 0; t < probs.length / 2; t++) {
            minP1 = Math.min(minP1, probs[2 * t + 1]);
        }
        assertThat(minP1).isLessThan(0.45);
        double maxDiff = 0;
        for (int i = 0; i < ld.length; i++) {
            assertThat(lm[i]).as("logit %d", i).isCloseTo(ld[i], within(1e-4f * (1 + Math.abs(ld[i]))));
            maxDiff = Math.max(maxDiff, Math.abs(lm[i] - ld[i]));
        }
        assertThat(maxDiff).isLessThan(1e-4);
    }

    @Test
    void upcycledLayoutRouterRowsBiasAndConfig() {
        Parameters dense = Parameters.init(TINY, 31);
        float[] rPub = ExpertTesting.vector(TINY.dim(), 0.2, 32);
        float[] rI = ExpertTesting.vector(TINY.dim(), 0.2, 33);
        Parameters moe = CoordinatedTraining.upcycle(dense, new RouterEmbedding("public", "random", 0, rPub),
                new RouterEmbedding("math", "random", 0, rI), ExpertBias.standard());
        ModelConfig c = moe.config();
        assertThat(c.experts()).isEqualTo(2);
        assertThat(c.topK()).isEqualTo(2);
        assertThat(c.lmHeadZLossWeight()).isEqualTo(ModelConfig.EXPERT_TRAINING_LM_Z_LOSS);
        assertThat(c.routerZLossWeight()).isEqualTo(ModelConfig.ROUTER_Z_LOSS);
        for (int l = 0; l < c.layers(); l++) {
            assertThat(moe.expert(l, 0).routerRow().data()).isEqualTo(rPub);
            assertThat(moe.expert(l, 1).routerRow().data()).isEqualTo(rI);
            assertThat(moe.expert(l, 0).bias()).isNull();
            assertThat(moe.expert(l, 1).bias().data()).containsExactly((float) ExpertBias.DEFAULT_INIT);
            for (int e = 0; e < 2; e++) {
                assertThat(moe.expert(l, e).gateUp().data()).isEqualTo(dense.expert(l, 0).gateUp().data());
                assertThat(moe.expert(l, e).down().data()).isEqualTo(dense.expert(l, 0).down().data());
            }
        }
        // Every tensor of the public model has an equal copy under the same name; no array is shared.
        Set<float[]> publicArrays = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : dense.tensors()) {
            publicArrays.add(t.data());
            if (!t.name().contains(".mlp.")) {
                assertThat(moe.tensor(t.name()).data()).as(t.name()).isEqualTo(t.data());
            }
        }
        for (Tensor t : moe.tensors()) {
            // Identity, not content: AssertJ's contains would compare arrays by value.
            assertThat(publicArrays.contains(t.data())).as("%s shares its array with the public model", t.name())
                    .isFalse();
        }
        // The router rows do not alias the caller's vectors either.
        rI[0] += 1;
        assertThat(moe.expert(0, 1).routerRow().data()[0]).isNotEqualTo(rI[0]);
    }

    @Test
    void exactlyTheExpertFfnRouterRowAndBiasTrain() {
        Parameters moe = CoordinatedTraining.upcycle(Parameters.init(TINY, 41),
                ExpertTesting.vector(TINY.dim(), 0.2, 42), ExpertTesting.vector(TINY.dim(), 0.2, 43),
                ExpertBias.standard(), 1e-5);
        assertThat(names(moe.trainable())).isEqualTo(expected(TINY.layers(), true));
        assertThat(moe.trainable()).containsExactlyElementsOf(CoordinatedTraining.expertTensors(moe,
                ExpertBias.standard()));

        Parameters noBias = CoordinatedTraining.upcycle(Parameters.init(TINY, 41),
                ExpertTesting.vector(TINY.dim(), 0.2, 42), ExpertTesting.vector(TINY.dim(), 0.2, 43),
                ExpertBias.none(), 1e-5);
        assertThat(names(noBias.trainable())).isEqualTo(expected(TINY.layers(), false));
        Trainer trainer = new Trainer(new FlexOlmoModel(noBias, backend), AdamWConfig.expertTraining(),
                LrSchedule.constant(1e-3));
        assertThat(names(trainer.optimizer().tensors())).isEqualTo(expected(TINY.layers(), false));
    }

    /** A few Trainer steps: every tensor outside FFN_1, r_1, b_1 keeps its bits; those three move; the public model too. */
    @Test
    void trainingMovesOnlyTheExpertAndLeavesThePublicModelUntouched() {
        Parameters dense = Parameters.init(TINY, 51);
        List<float[]> publicBefore = snapshot(dense.tensors());
        Parameters moe = CoordinatedTraining.upcycle(dense, ExpertTesting.vector(TINY.dim(), 0.2, 52),
                ExpertTesting.vector(TINY.dim(), 0.2, 53), ExpertBias.standard(), 1e-5);
        List<float[]> before = snapshot(moe.tensors());
        train(moe, 4, 54);

        Set<String> trained = expected(TINY.layers(), true);
        for (int i = 0; i < moe.tensors().size(); i++) {
            Tensor t = moe.tensors().get(i);
            if (trained.contains(t.name())) {
                assertThat(t.data()).as(t.name()).isNotEqualTo(before.get(i));
            } else {
                assertThat(t.data()).as(t.name()).isEqualTo(before.get(i));
            }
        }
        for (int i = 0; i < dense.tensors().size(); i++) {
            assertThat(dense.tensors().get(i).data()).isEqualTo(publicBefore.get(i));
            assertThat(dense.tensors().get(i).trainable()).isFalse();
        }
    }

    /** --no-bias: b_1 stays exactly 0 and never gets a gradient buffer; with the bias it moves off its init. */
    @Test
    void noBiasStaysExactlyZeroAndUntrainedWhileTheBiasMoves() {
        Parameters dense = Parameters.init(TINY, 61);
        float[] rPub = ExpertTesting.vector(TINY.dim(), 0.2, 62);
        float[] rI = ExpertTesting.vector(TINY.dim(), 0.2, 63);
        Parameters none = CoordinatedTraining.upcycle(dense, rPub, rI, ExpertBias.none(), 1e-5);
        Parameters with = CoordinatedTraining.upcycle(dense, rPub, rI, ExpertBias.standard(), 1e-5);
        train(none, 4, 64);
        train(with, 4, 64);
        for (int l = 0; l < TINY.layers(); l++) {
            Tensor b0 = none.expert(l, 1).bias();
            assertThat(Float.floatToRawIntBits(b0.data()[0])).as(b0.name()).isZero();
            assertThat(b0.trainable()).isFalse();
            Tensor b1 = with.expert(l, 1).bias();
            assertThat(b1.data()[0]).as(b1.name()).isNotEqualTo((float) ExpertBias.DEFAULT_INIT);
            // The router row trains in both.
            assertThat(none.expert(l, 1).routerRow().data()).isNotEqualTo(rI);
        }
    }

    @Test
    void publicRouterEmbeddingIsRowZeroOfEveryLayerAndSurvivesTraining() {
        float[] rPub = ExpertTesting.vector(TINY.dim(), 0.2, 92);
        Parameters moe = CoordinatedTraining.upcycle(Parameters.init(TINY, 91), rPub,
                ExpertTesting.vector(TINY.dim(), 0.2, 93), ExpertBias.standard(), 1e-5);
        train(moe, 2, 94);
        assertThat(CoordinatedTraining.publicRouterEmbedding(moe)).isEqualTo(rPub);
        moe.expert(1, 0).routerRow().data()[3] += 1e-3f;
        assertThatThrownBy(() -> CoordinatedTraining.publicRouterEmbedding(moe))
                .hasMessageContaining(ParameterNames.routerRow(1, 0) + " differs from layer 0's");
    }

    @Test
    void markTrainableAgainAfterEverythingWasFrozen() {
        Parameters moe = CoordinatedTraining.upcycle(Parameters.init(TINY, 71),
                ExpertTesting.vector(TINY.dim(), 0.2, 72), ExpertTesting.vector(TINY.dim(), 0.2, 73),
                ExpertBias.none(), 1e-5);
        moe.trainAll();
        CoordinatedTraining.markTrainable(moe, ExpertBias.none());
        assertThat(names(moe.trainable())).isEqualTo(expected(TINY.layers(), false));
        moe.expert(1, 1).bias().data()[0] = -0.5f;
        assertThatThrownBy(() -> CoordinatedTraining.markTrainable(moe, ExpertBias.none()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ParameterNames.expertBias(1, 1)).hasMessageContaining("must be 0");
    }

    @Test
    void badInputsAreRefusedWithClearMessages() {
        Parameters dense = Parameters.init(TINY, 81);
        float[] r = ExpertTesting.vector(TINY.dim(), 0.2, 82);
        assertThatThrownBy(() -> CoordinatedTraining.upcycle(Parameters.init(TINY.withExperts(2, 1), 1), r, r,
                ExpertBias.standard(), 0)).hasMessageContaining("must be dense");
        assertThatThrownBy(() -> CoordinatedTraining.upcycle(dense, new float[TINY.dim() + 1], r,
                ExpertBias.standard(), 0)).hasMessageContaining("public router embedding has width 33, expected d_model = 32");
        float[] nan = r.clone();
        nan[5] = Float.NaN;
        assertThatThrownBy(() -> CoordinatedTraining.upcycle(dense, r, nan, ExpertBias.standard(), 0))
                .hasMessageContaining("expert router embedding value 5 is NaN");
        assertThatThrownBy(() -> ExpertBias.trained(0.1)).hasMessageContaining("at most 0");
        assertThatThrownBy(() -> ExpertBias.trained(Double.NaN)).hasMessageContaining("finite");
        assertThatThrownBy(() -> new ExpertBias(false, -0.01)).hasMessageContaining("must be 0 when the bias is disabled");
        assertThatThrownBy(() -> CoordinatedTraining.markTrainable(Parameters.init(TINY.withExperts(3, 2), 1),
                ExpertBias.standard())).hasMessageContaining("2 experts, top-2");
    }

    // ---- helpers ----

    private static Set<String> expected(int layers, boolean bias) {
        Set<String> names = new LinkedHashSet<>();
        for (int l = 0; l < layers; l++) {
            names.add(ParameterNames.ffnGateUp(l, 1, false));
            names.add(ParameterNames.ffn(l, 1, false, "down"));
            names.add(ParameterNames.routerRow(l, 1));
            if (bias) {
                names.add(ParameterNames.expertBias(l, 1));
            }
        }
        return names;
    }

    private static Set<String> names(List<Tensor> tensors) {
        Set<String> names = new LinkedHashSet<>();
        for (Tensor t : tensors) {
            names.add(t.name());
        }
        return names;
    }

    /**
     * The router learning-rate scale (flexmoe issue 4): 0 keeps r_1 and b_1 bit for bit at their init while FFN_1
     * trains exactly as with the full rate's first step; 1 is the unscaled optimizer bit for bit; in between, Adam's
     * step (weight decay 0) is the full step times the scale.
     */
    @Test
    void routerLrScaleSlowsOrFreezesOnlyTheRouterRowAndBias() {
        Parameters dense = Parameters.init(TINY, 41);
        float[] rPub = ExpertTesting.vector(TINY.dim(), 0.5, 42);
        float[] rExp = ExpertTesting.vector(TINY.dim(), 0.5, 43);
        ExpertBias bias = ExpertBias.trained(-0.5);
        Parameters full = CoordinatedTraining.upcycle(dense, rPub, rExp, bias, 0);
        Parameters same = CoordinatedTraining.upcycle(dense, rPub, rExp, bias, 0);
        Parameters frozen = CoordinatedTraining.upcycle(dense, rPub, rExp, bias, 0);
        Parameters half = CoordinatedTraining.upcycle(dense, rPub, rExp, bias, 0);
        TokenBatch batch = ExpertTesting.batch(TINY, 2, TINY.maxSeqLen(), 44);
        step(full, AdamWConfig.expertTraining(), batch);
        step(same, AdamWConfig.expertTraining().withRouterLrScale(1), batch);
        step(frozen, AdamWConfig.expertTraining().withRouterLrScale(0), batch);
        step(half, AdamWConfig.expertTraining().withRouterLrScale(0.5), batch);
        for (int l = 0; l < TINY.layers(); l++) {
            int layer = l;
            for (java.util.function.Function<Parameters, Tensor> t : List.<java.util.function.Function<Parameters,
                    Tensor>>of(p -> p.expert(layer, 1).routerRow(), p -> p.expert(layer, 1).bias(),
                    p -> p.expert(layer, 1).down())) {
                assertThat(t.apply(same).data()).as(t.apply(same).name()).isEqualTo(t.apply(full).data());
            }
            assertThat(frozen.expert(l, 1).routerRow().data()).isEqualTo(rExp);
            assertThat(frozen.expert(l, 1).bias().data()).containsExactly(-0.5f);
            // The first step's gradients do not depend on the router's rate, so the FFN moves the same.
            assertThat(frozen.expert(l, 1).down().data()).isEqualTo(full.expert(l, 1).down().data());
            float[] f = full.expert(l, 1).routerRow().data(), h = half.expert(l, 1).routerRow().data();
            assertThat(f).isNotEqualTo(rExp);
            for (int i = 0; i < f.length; i++) {
                assertThat(h[i] - rExp[i]).isCloseTo(0.5f * (f[i] - rExp[i]), within(1e-6f));
            }
            assertThat(half.expert(l, 1).bias().data()[0] + 0.5f)
                    .isCloseTo(0.5f * (full.expert(l, 1).bias().data()[0] + 0.5f), within(1e-6f));
        }
        assertThatThrownBy(() -> AdamWConfig.expertTraining().withRouterLrScale(1.5))
                .hasMessageContaining("AdamWConfig.routerLrScale: must be in [0, 1], got 1.5");
    }

    private static void step(Parameters p, AdamWConfig config, TokenBatch batch) {
        new Trainer(new FlexOlmoModel(p, backend), config, LrSchedule.constant(1e-2)).step(batch);
    }

    private static List<float[]> snapshot(List<Tensor> tensors) {
        List<float[]> list = new ArrayList<>();
        for (Tensor t : tensors) {
            list.add(t.data().clone());
        }
        return list;
    }

    private static void train(Parameters p, int steps, long seed) {
        Trainer trainer = new Trainer(new FlexOlmoModel(p, backend), AdamWConfig.expertTraining(),
                LrSchedule.constant(1e-2));
        for (int s = 0; s < steps; s++) {
            trainer.step(ExpertTesting.batch(p.config(), 2, p.config().maxSeqLen(), seed + s));
        }
    }

    private static float[] hidden(Parameters p, TokenBatch batch) {
        FlexOlmoModel m = new FlexOlmoModel(p, backend);
        m.forward(batch);
        return m.finalHidden();
    }

    /** LM-head logits [T, V] = hidden [T, D] · lm_headᵀ, the model's own last GEMM. */
    private static float[] logits(Parameters p, float[] hidden) {
        int d = p.config().dim(), v = p.config().vocabSize(), t = hidden.length / d;
        float[] out = new float[t * v];
        backend.gemm().matmulNT(hidden, 0, p.lmHead().data(), 0, out, 0, t, v, d, false);
        return out;
    }
}
