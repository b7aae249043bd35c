package flexmoe.moe.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape and the loss weights of a FlexOlmo model: OLMo-2 blocks (post-norm, QK-norm over the whole
 * projection, RoPE, SwiGLU) with a mixture of {@code experts} SwiGLU FFNs, {@code topK} of them active per
 * token. {@code experts == 1} is the dense public model: no router, the FFN is the single expert.
 *
 * <p>Hyperparameters are doubles (JSON-friendly, exact for the values used); the kernels receive them as
 * floats. Defaults follow OLMo-2 / FlexOlmo (reference/FLEXOLMO.md): RoPE theta 500000, RMSNorm eps 1e-6,
 * router z-loss 1e-3, init std 0.02; the LM-head z-loss is 0 for public-model training and 1e-5 in expert
 * training (OLMo-core's expert-training setting, code only).
 *
 * <p>Presets ({@link #preset}) are data, not code paths:
 * <ul>
 *   <li>{@code tiny}: vocab 64, d 32, 2 layers, 2 heads (head width 16), FFN 64, sequence 16. For tests:
 *       a whole-model gradient check runs hundreds of forwards in well under a second.</li>
 *   <li>{@code quick}: vocab 4096, d 128, 4 layers, 4 heads (head width 32), FFN 512, sequence 128. The
 *       2-core quick start: 2.1 M parameters (half of them embedding and LM head), 10.2 MFLOP per trained
 *       token, so several thousand tokens per second on two cores and a public model plus experts in
 *       minutes. Four layers rather than two so that routing can differ by depth, which the paper's
 *       routing analysis looks at.</li>
 *   <li>{@code paper-mini}: vocab 4096, d 256, 4 layers, 4 heads (head width 64, OLMo-2's own head width),
 *       FFN 1024 (4x, SwiGLU), sequence 256. The small-scale stand-in for the paper's experiments
 *       (reference/PERF.md budgets it at ~60 MFLOP per token for 4 experts, top-2).</li>
 * </ul>
 * All presets are dense; {@link #withExperts} makes the MoE variant (e.g. expert training's 2 experts,
 * top-2).
 *
 * @param vocabSize          tokens in the vocabulary (embedding and LM-head rows)
 * @param dim                model width d
 * @param layers             transformer blocks
 * @param heads              attention heads; {@code dim / heads} must be even (rotate-half RoPE)
 * @param ffnHidden          SwiGLU hidden width F of every expert
 * @param maxSeqLen          longest sequence (RoPE table length)
 * @param ropeTheta          RoPE base (OLMo-2: 500000)
 * @param normEps            RMSNorm epsilon (OLMo-2: 1e-6)
 * @param experts            experts per MoE layer including the public expert 0; 1 = dense
 * @param topK               active experts per token, in [1, experts]
 * @param routerZLossWeight  weight of {@code mean lse(router logits)^2}, summed over layers (FlexOlmo: 1e-3)
 * @param lmHeadZLossWeight  weight of {@code mean lse(LM logits)^2} (0, or 1e-5 in expert training)
 * @param initStd            standard deviation of the normal init of every weight matrix (0.02)
 */
public record ModelConfig(int vocabSize, int dim, int layers, int heads, int ffnHidden, int maxSeqLen,
                          double ropeTheta, double normEps, int experts, int topK, double routerZLossWeight,
                          double lmHeadZLossWeight, double initStd) {

    /** OLMo-2's RoPE base. */
    public static final double OLMO2_ROPE_THETA = 500_000;
    /** OLMo-2's RMSNorm epsilon. */
    public static final double OLMO2_NORM_EPS = 1e-6;
    /** FlexOlmo's router z-loss weight. */
    public static final double ROUTER_Z_LOSS = 1e-3;
    /** OLMo-core's LM-head z-loss weight during expert training. */
    public static final double EXPERT_TRAINING_LM_Z_LOSS = 1e-5;
    /** OLMo-2's init standard deviation. */
    public static final double INIT_STD = 0.02;

    private static final Map<String, ModelConfig> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("tiny", dense(64, 32, 2, 2, 64, 16));
        PRESETS.put("quick", dense(4096, 128, 4, 4, 512, 128));
        PRESETS.put("paper-mini", dense(4096, 256, 4, 4, 1024, 256));
    }

    public ModelConfig {
        positive("vocabSize", vocabSize);
        positive("dim", dim);
        positive("layers", layers);
        positive("heads", heads);
        positive("ffnHidden", ffnHidden);
        positive("maxSeqLen", maxSeqLen);
        positive("experts", experts);
        if (dim % heads != 0) {
            throw new IllegalArgumentException("ModelConfig.heads: dim " + dim + " is not divisible by heads "
                    + heads);
        }
        if ((dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("ModelConfig.heads: head width dim / heads = " + (dim / heads)
                    + " must be even (rotate-half RoPE pairs i, i + hd/2)");
        }
        if (topK < 1 || topK > experts) {
            throw new IllegalArgumentException("ModelConfig.topK: must be in [1, experts = " + experts + "], got "
                    + topK);
        }
        finitePositive("ropeTheta", ropeTheta);
        finitePositive("normEps", normEps);
        finitePositive("initStd", initStd);
        finiteNonNegative("routerZLossWeight", routerZLossWeight);
        finiteNonNegative("lmHeadZLossWeight", lmHeadZLossWeight);
        // Array sizes the model allocates must fit a Java array; name the first that does not.
        fits("vocabSize * dim", (long) vocabSize * dim);
        fits("2 * ffnHidden * dim", 2L * ffnHidden * dim);
    }

    /** A dense model with the OLMo-2 / FlexOlmo defaults for everything not given. */
    public static ModelConfig dense(int vocabSize, int dim, int layers, int heads, int ffnHidden, int maxSeqLen) {
        return new ModelConfig(vocabSize, dim, layers, heads, ffnHidden, maxSeqLen, OLMO2_ROPE_THETA,
                OLMO2_NORM_EPS, 1, 1, ROUTER_Z_LOSS, 0, INIT_STD);
    }

    /** The named preset ({@code tiny}, {@code quick}, {@code paper-mini}). */
    public static ModelConfig preset(String name) {
        ModelConfig config = PRESETS.get(name);
        if (config == null) {
            throw new IllegalArgumentException("model preset '" + name + "' is unknown (known: "
                    + String.join(", ", PRESETS.keySet()) + ")");
        }
        return config;
    }

    /** The preset names, in order of size. */
    public static Iterable<String> presetNames() {
        return PRESETS.keySet();
    }

    /** True for the dense model: one expert, no router. */
    public boolean isDense() {
        return experts == 1;
    }

    /** Attention head width {@code dim / heads}. */
    public int headDim() {
        return dim / heads;
    }

    /** The same model with {@code experts} experts, {@code topK} active per token. */
    public ModelConfig withExperts(int experts, int topK) {
        return new ModelConfig(vocabSize, dim, layers, heads, ffnHidden, maxSeqLen, ropeTheta, normEps, experts,
                topK, routerZLossWeight, lmHeadZLossWeight, initStd);
    }

    /** The same model with other auxiliary-loss weights. */
    public ModelConfig withZLoss(double routerZLossWeight, double lmHeadZLossWeight) {
        return new ModelConfig(vocabSize, dim, layers, heads, ffnHidden, maxSeqLen, ropeTheta, normEps, experts,
                topK, routerZLossWeight, lmHeadZLossWeight, initStd);
    }

    /** The same model with another vocabulary size (set from the trained tokenizer). */
    public ModelConfig withVocabSize(int vocabSize) {
        return new ModelConfig(vocabSize, dim, layers, heads, ffnHidden, maxSeqLen, ropeTheta, normEps, experts,
                topK, routerZLossWeight, lmHeadZLossWeight, initStd);
    }

    private static void positive(String field, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("ModelConfig." + field + ": must be at least 1, got " + value);
        }
    }

    private static void finitePositive(String field, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException("ModelConfig." + field + ": must be finite and positive, got "
                    + value);
        }
    }

    private static void finiteNonNegative(String field, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException("ModelConfig." + field + ": must be finite and non-negative, got "
                    + value);
        }
    }

    private static void fits(String what, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("ModelConfig: " + what + " = " + size + " exceeds a Java array");
        }
    }
}
