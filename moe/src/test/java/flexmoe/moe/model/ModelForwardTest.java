package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.kernels.GemmOps;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The forward against the float64 {@link ReferenceModel} (block outputs, routing, every loss part), the dense
 * FFN against plain GEMMs, and the upcycling identity (two copies of one FFN, top-2 of 2, give the dense model).
 */
class ModelForwardTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void denseForwardMatchesFloat64Reference() {
        compareWithReference(ModelConfig.preset("tiny").withZLoss(1e-3, 1e-2), 31);
    }

    @Test
    void moeAllActiveForwardMatchesFloat64Reference() {
        compareWithReference(ModelConfig.preset("tiny").withExperts(3, 3).withZLoss(1e-2, 1e-2), 32);
    }

    @Test
    void moeTopTwoForwardMatchesFloat64Reference() {
        compareWithReference(ModelConfig.preset("tiny").withExperts(4, 2).withZLoss(1e-2, 1e-5), 33);
    }

    private static void compareWithReference(ModelConfig c, long seed) {
        Parameters p = Parameters.init(c, seed);
        ModelTesting.setBiases(p, seed, -0.5, 0.0);
        ModelTesting.jitterNorms(p, seed, 0.3);
        scaleRouter(p, 10f);
        TokenBatch batch = ModelTesting.randomBatch(c, 3, 10, seed);
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        Loss loss = model.forward(batch);
        ReferenceModel.Result ref = ReferenceModel.forward(p, batch);

        assertThat(loss.crossEntropy()).isCloseTo(ref.crossEntropy(), within(2e-5 * ref.crossEntropy()));
        assertThat(loss.lmHeadZLoss()).isCloseTo(ref.lmZLoss(), within(1e-5 * ref.lmZLoss() + 1e-7));
        assertThat(loss.routerZLoss()).isCloseTo(ref.routerZLoss(), within(1e-5 * ref.routerZLoss() + 1e-9));
        assertThat(loss.total()).isCloseTo(ref.total(), within(2e-5 * ref.total()));
        assertThat(loss.validTokens()).isEqualTo(countValid(batch));
        Activations act = model.activations();
        int d = c.dim();
        for (int l = 0; l < c.layers(); l++) {
            double worst = 0, scale = 0;
            for (int i = 0; i < batch.tokens(); i++) {
                for (int e = 0; e < d; e++) {
                    double r = ref.blockOutputs()[l][i][e];
                    worst = Math.max(worst, Math.abs(act.residual[l + 1][i * d + e] - r));
                    scale = Math.max(scale, Math.abs(r));
                }
            }
            assertThat(worst).as("layer %d output, largest |x| %s", l, scale).isLessThan(1e-5 * scale);
            int[] ids = model.topKIds(l);
            for (int i = 0; i < batch.tokens(); i++) {
                for (int s = 0; s < c.topK(); s++) {
                    assertThat(ids[i * c.topK() + s]).as("layer %d token %d slot %d", l, i, s)
                            .isEqualTo(ref.ids()[l][i][s]);
                }
            }
        }
        if (c.topK() < c.experts()) {
            // The routing is not trivial: every expert is somebody's choice in some layer.
            double[] share = model.expertTokenShare(0);
            assertThat(share.length).isEqualTo(c.experts());
            assertThat(java.util.Arrays.stream(share).sum()).isCloseTo(c.topK(), within(1e-9));
        }
    }

    /** A dense model's FFN output is exactly swiglu(h W1ᵀ, h W3ᵀ) W2ᵀ formed from the HF tensors with GEMMs. */
    @Test
    void denseMoeLayerIsThePlainFfn() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 41);
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        TokenBatch batch = ModelTesting.randomBatch(c, 2, 16, 41);
        model.forward(batch);
        Activations act = model.activations();
        int t = batch.tokens(), d = c.dim(), f = c.ffnHidden();
        List<NamedTensor> hf = p.huggingFaceTensors();
        GemmOps gemm = backend.gemm();
        for (int l = 0; l < c.layers(); l++) {
            float[] w1 = find(hf, "model.layers." + l + ".mlp.gate_proj.weight");
            float[] w3 = find(hf, "model.layers." + l + ".mlp.up_proj.weight");
            float[] w2 = find(hf, "model.layers." + l + ".mlp.down_proj.weight");
            float[] h = act.layers[l].h;
            float[] a = new float[t * f], u = new float[t * f], s = new float[t * f], m = new float[t * d];
            gemm.matmulNT(h, 0, w1, 0, a, 0, t, f, d, false);
            gemm.matmulNT(h, 0, w3, 0, u, 0, t, f, d, false);
            backend.moe().swigluForward(a, 0, u, 0, s, 0, t, f);
            gemm.matmulNT(s, 0, w2, 0, m, 0, t, d, f, false);
            float[] got = act.layers[l].m;
            for (int i = 0; i < m.length; i++) {
                assertThat(got[i]).as("layer %d m[%d]", l, i).isCloseTo(m[i], within(1e-6f * (1 + Math.abs(m[i]))));
            }
        }
    }

    /**
     * Upcycling, built from the public API as the later upcycle step will: the 2-expert model reuses the dense
     * model's shared tensors, both experts are renamed copies of the dense FFN ({@link Tensor#copyAs}), router
     * rows are given. With top-2 of 2 it reproduces the dense model's cross-entropy (p0 + p1 = 1 up to
     * rounding) whatever the router rows and bias.
     */
    @Test
    void upcycledTwoExpertModelGivesTheDenseModel() {
        ModelConfig dense = ModelConfig.preset("tiny");
        ModelConfig moe = dense.withExperts(2, 2);
        Parameters pd = Parameters.init(dense, 51);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(51);
        List<LayerParameters> layers = new java.util.ArrayList<>();
        for (int l = 0; l < dense.layers(); l++) {
            LayerParameters dl = pd.layer(l);
            ExpertLayer ffn = dl.expert(0);
            List<ExpertLayer> experts = new java.util.ArrayList<>();
            for (int e = 0; e < 2; e++) {
                float[] row = new float[dense.dim()];
                for (int i = 0; i < row.length; i++) {
                    row[i] = (float) (0.5 * rng.nextGaussian());
                }
                experts.add(new ExpertLayer(
                        ffn.gateUp().copyAs(ParameterNames.ffnGateUp(l, e, false)),
                        ffn.down().copyAs(ParameterNames.ffn(l, e, false, "down")),
                        new Tensor(ParameterNames.routerRow(l, e), Tensor.Kind.ROUTER, row, dense.dim()),
                        e == 0 ? null : new Tensor(ParameterNames.expertBias(l, e), Tensor.Kind.BIAS,
                                new float[] {-0.3f}, 1)));
            }
            layers.add(new LayerParameters(dl.qProj(), dl.kProj(), dl.vProj(), dl.oProj(), dl.qNorm(), dl.kNorm(),
                    dl.postAttentionNorm(), dl.postFeedforwardNorm(), experts));
        }
        Parameters pm = new Parameters(moe, pd.embedding(), layers, pd.finalNorm(), pd.lmHead());
        assertThat(pm.expert(1, 1).gateUp().data()).isEqualTo(pd.expert(1, 0).gateUp().data())
                .isNotSameAs(pd.expert(1, 0).gateUp().data());

        TokenBatch batch = ModelTesting.randomBatch(dense, 2, 16, 51);
        double ceDense = new FlexOlmoModel(pd, backend).forward(batch).crossEntropy();
        FlexOlmoModel upcycled = new FlexOlmoModel(pm, backend);
        Loss lm = upcycled.forward(batch);
        assertThat(lm.routerZLoss()).isPositive();
        assertThat(upcycled.expertTokenShare(0)).containsExactly(1.0, 1.0);
        assertThat(lm.crossEntropy()).isCloseTo(ceDense, within(1e-5 * ceDense));
    }

    /** Shared tensors draw from their own (seed, name) streams: a dense and an MoE init agree on them bit for bit. */
    @Test
    void denseAndMoeInitShareTheSharedTensors() {
        Parameters pd = Parameters.init(ModelConfig.preset("tiny"), 52);
        Parameters pm = Parameters.init(ModelConfig.preset("tiny").withExperts(3, 2), 52);
        int shared = 0;
        for (Tensor t : pd.tensors()) {
            if (!t.name().contains(".mlp.")) {
                ModelTesting.assertBitsEqual(t.name(), pm.tensor(t.name()).data(), t.data());
                shared++;
            }
        }
        assertThat(shared).as("embedding, 8 per layer, final norm, LM head").isEqualTo(1 + 2 * 8 + 2);
    }

    /** An expert no token chooses has no rows: skipped in forward and backward, its FFN gradient stays 0. */
    @Test
    void expertWithoutTokensIsSkipped() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(3, 2);
        Parameters p = Parameters.init(c, 61);
        for (int l = 0; l < c.layers(); l++) {
            p.expert(l, 2).bias().data()[0] = -1e4f; // never in the top 2 of 3
            p.expert(l, 1).bias().data()[0] = -0.1f;
        }
        p.trainAll();
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        TokenBatch batch = ModelTesting.randomBatch(c, 2, 8, 61);
        Loss loss = model.forwardBackward(batch);
        assertThat(loss.total()).isFinite();
        for (int l = 0; l < c.layers(); l++) {
            assertThat(model.expertTokenShare(l)).containsExactly(1.0, 1.0, 0.0);
            assertThat(p.expert(l, 2).gateUp().grad()).containsOnly(0f);
            assertThat(p.expert(l, 2).down().grad()).containsOnly(0f);
            assertThat(p.expert(l, 1).gateUp().grad()).isNotEqualTo(new float[2 * c.ffnHidden() * c.dim()]);
        }
        assertThat(Math.abs(loss.total() - ReferenceModel.forward(p, batch).total())).isLessThan(1e-4);
    }

    static void scaleRouter(Parameters p, float factor) {
        for (Tensor t : p.tensors()) {
            if (t.kind() == Tensor.Kind.ROUTER) {
                float[] w = t.data();
                for (int i = 0; i < w.length; i++) {
                    w[i] *= factor;
                }
            }
        }
    }

    private static void copy(Tensor from, Tensor to) {
        System.arraycopy(from.data(), 0, to.data(), 0, from.size());
    }

    private static float[] find(List<NamedTensor> tensors, String name) {
        for (NamedTensor t : tensors) {
            if (t.name().equals(name)) {
                return t.data();
            }
        }
        throw new AssertionError("no tensor " + name);
    }

    private static int countValid(TokenBatch b) {
        int n = 0;
        for (int y : b.targets()) {
            if (y >= 0) {
                n++;
            }
        }
        return n;
    }
}
