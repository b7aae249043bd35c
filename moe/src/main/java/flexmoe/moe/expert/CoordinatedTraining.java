package flexmoe.moe.expert;

import flexmoe.moe.model.ExpertLayer;
import flexmoe.moe.model.LayerParameters;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.router.RouterEmbedding;
import java.util.ArrayList;
import java.util.List;

/**
 * The model FlexOlmo trains an expert in ("coordinated training"): the dense public model upcycled into a 2-expert
 * MoE, top-2 of 2. Expert 0 is the public FFN, frozen; expert 1 starts as a copy of it and is the only FFN that
 * trains. Router rows [r_pub, r_i] are the same two vectors in every layer; expert 1 has the bias b_1
 * ({@link ExpertBias}). Exactly FFN_1, r_1 and b_1 (in every layer) train; everything else (embedding, attention,
 * norms, LM head, the public FFN and r_pub) is frozen and stays bit-identical, since the optimizer never holds it.
 *
 * <p>The upcycled model owns copies of all its tensors: nothing is shared with {@code publicModel}, so training the
 * expert, or changing what is trainable, can never touch the public model's tensors or their gradient buffers.
 *
 * <p>At the start the two experts are identical and the top-2 gates sum to 1, so the upcycled model computes the
 * dense model's function whatever r_pub, r_i and b_1 are (up to float rounding of p0 + p1; bit for bit when
 * r_pub == r_i and b_1 == 0, where both gates are exactly 1/2).
 */
public final class CoordinatedTraining {

    /** Index of the frozen public expert. */
    public static final int PUBLIC_EXPERT = 0;
    /** Index of the expert being trained. */
    public static final int EXPERT = 1;

    private CoordinatedTraining() {
    }

    /**
     * {@link #upcycle(Parameters, float[], float[], ExpertBias, double)} with OLMo-core's expert-training LM-head
     * z-loss ({@link ModelConfig#EXPERT_TRAINING_LM_Z_LOSS}).
     */
    public static Parameters upcycle(Parameters publicModel, RouterEmbedding publicRouter,
                                     RouterEmbedding expertRouter, ExpertBias bias) {
        return upcycle(publicModel, publicRouter.vector(), expertRouter.vector(), bias,
                ModelConfig.EXPERT_TRAINING_LM_Z_LOSS);
    }

    /**
     * The 2-expert model for training one expert, with exactly FFN_1, r_1 and (when {@code bias.enabled()}) b_1
     * trainable. The config is the public model's with experts 2, top-2, and LM-head z-loss
     * {@code lmHeadZLossWeight}.
     *
     * @param publicModel            the dense public model (only read)
     * @param publicRouterEmbedding  r_pub [d_model], the public model's (frozen, same for every expert)
     * @param expertRouterEmbedding  r_i [d_model], from the expert's domain
     */
    public static Parameters upcycle(Parameters publicModel, float[] publicRouterEmbedding,
                                     float[] expertRouterEmbedding, ExpertBias bias, double lmHeadZLossWeight) {
        if (publicModel == null || bias == null) {
            throw new IllegalArgumentException("upcycle: the public model and the bias setting are required");
        }
        ModelConfig pc = publicModel.config();
        if (!pc.isDense()) {
            throw new IllegalArgumentException("upcycle: the public model must be dense (1 expert), it has "
                    + pc.experts());
        }
        int d = pc.dim();
        checkRouter("public router embedding", publicRouterEmbedding, d);
        checkRouter("expert router embedding", expertRouterEmbedding, d);
        ModelConfig config = pc.withExperts(2, 2).withZLoss(pc.routerZLossWeight(), lmHeadZLossWeight);

        List<LayerParameters> layers = new ArrayList<>();
        for (int l = 0; l < pc.layers(); l++) {
            LayerParameters p = publicModel.layer(l);
            ExpertLayer ffn = p.expert(0);
            List<ExpertLayer> experts = new ArrayList<>(2);
            for (int e = 0; e < 2; e++) {
                Tensor row = new Tensor(ParameterNames.routerRow(l, e), Tensor.Kind.ROUTER,
                        (e == PUBLIC_EXPERT ? publicRouterEmbedding : expertRouterEmbedding).clone(), d);
                Tensor b = e == PUBLIC_EXPERT ? null : new Tensor(ParameterNames.expertBias(l, e), Tensor.Kind.BIAS,
                        new float[] {(float) bias.init()}, 1);
                experts.add(new ExpertLayer(ffn.gateUp().copyAs(ParameterNames.ffnGateUp(l, e, false)),
                        ffn.down().copyAs(ParameterNames.ffn(l, e, false, "down")), row, b));
            }
            layers.add(new LayerParameters(copy(p.qProj()), copy(p.kProj()), copy(p.vProj()), copy(p.oProj()),
                    copy(p.qNorm()), copy(p.kNorm()), copy(p.postAttentionNorm()), copy(p.postFeedforwardNorm()),
                    experts));
        }
        Parameters upcycled = new Parameters(config, copy(publicModel.embedding()), layers,
                copy(publicModel.finalNorm()), copy(publicModel.lmHead()));
        markTrainable(upcycled, bias);
        return upcycled;
    }

    /**
     * Makes exactly expert 1's FFN and router row, and its bias when {@code bias.enabled()}, trainable in every layer;
     * everything else frozen (e.g. again after loading a checkpoint). With the bias disabled it must be 0.
     */
    public static void markTrainable(Parameters expertModel, ExpertBias bias) {
        requireExpertModel(expertModel);
        expertModel.trainOnlyExpert(EXPERT);
        if (!bias.enabled()) {
            for (int l = 0; l < expertModel.config().layers(); l++) {
                Tensor b = expertModel.expert(l, EXPERT).bias();
                if (b.data()[0] != 0f) {
                    throw new IllegalArgumentException("no-bias expert training: " + b.name() + " is " + b.data()[0]
                            + ", must be 0");
                }
                b.setTrainable(false);
            }
        }
    }

    /** The tensors coordinated training updates, in parameter order: per layer gate_up_1, down_1, r_1 (, b_1). */
    public static List<Tensor> expertTensors(Parameters expertModel, ExpertBias bias) {
        requireExpertModel(expertModel);
        List<Tensor> list = new ArrayList<>();
        for (int l = 0; l < expertModel.config().layers(); l++) {
            ExpertLayer x = expertModel.expert(l, EXPERT);
            list.add(x.gateUp());
            list.add(x.down());
            list.add(x.routerRow());
            if (bias.enabled()) {
                list.add(x.bias());
            }
        }
        return list;
    }

    /**
     * r_pub of an upcycled (or trained: r_pub is frozen) expert model: router row 0, which must be the same in every
     * layer. For the artifact code, to store r_pub with the public model or check an expert against it.
     */
    public static float[] publicRouterEmbedding(Parameters expertModel) {
        requireExpertModel(expertModel);
        float[] r = expertModel.expert(0, PUBLIC_EXPERT).routerRow().data();
        for (int l = 1; l < expertModel.config().layers(); l++) {
            if (!java.util.Arrays.equals(expertModel.expert(l, PUBLIC_EXPERT).routerRow().data(), r)) {
                throw new IllegalArgumentException("public router embedding: "
                        + ParameterNames.routerRow(l, PUBLIC_EXPERT) + " differs from layer 0's (r_pub must be the"
                        + " same vector in every layer)");
            }
        }
        return r.clone();
    }

    private static void requireExpertModel(Parameters p) {
        ModelConfig c = p.config();
        if (c.experts() != 2 || c.topK() != 2) {
            throw new IllegalArgumentException("coordinated training: expects the upcycled model (2 experts, top-2), got "
                    + c.experts() + " experts, top-" + c.topK());
        }
    }

    private static void checkRouter(String what, float[] v, int d) {
        if (v == null || v.length != d) {
            throw new IllegalArgumentException("upcycle: " + what + " has width " + (v == null ? 0 : v.length)
                    + ", expected d_model = " + d);
        }
        for (int i = 0; i < d; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException("upcycle: " + what + " value " + i + " is " + v[i]);
            }
        }
    }

    private static Tensor copy(Tensor t) {
        return t.copyAs(t.name());
    }
}
