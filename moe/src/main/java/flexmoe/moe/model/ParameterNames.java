package flexmoe.moe.model;

/**
 * The one place that spells parameter names. Names follow Hugging Face OLMo-2 / FlexOlmo
 * ({@code FlexOlmoForCausalLM}), with two internal forms that the export ({@link Parameters#huggingFaceTensors})
 * turns back into Hugging Face tensors:
 * <ul>
 *   <li>{@code ...gate_up_proj.weight} [2F, D]: an expert's {@code gate_proj} (rows [0, F)) and {@code up_proj}
 *       (rows [F, 2F)) stacked, so the two input projections are one GEMM ({@code MoeOps.swigluFused*}).</li>
 *   <li>{@code ...mlp.gate.weight[e]} [D] and {@code ...mlp.gate.expert_bias[e]} [1]: row e of the router
 *       matrix and entry e of the bias vector, stored per expert so that an expert's router row and bias are
 *       trained, frozen, added and removed together with its FFN. The public expert 0 has no bias tensor.</li>
 * </ul>
 * A dense model (one expert) uses OLMo-2's FFN names ({@code model.layers.i.mlp.gate_proj.weight}); an MoE
 * model FlexOlmo's ({@code model.layers.i.mlp.experts.e.gate_proj.weight}).
 */
public final class ParameterNames {

    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private ParameterNames() {
    }

    /** {@code model.layers.{layer}.self_attn.{q,k,v,o}_proj.weight}; proj is "q", "k", "v" or "o". */
    public static String attentionProjection(int layer, String proj) {
        return layer(layer) + "self_attn." + proj + "_proj.weight";
    }

    /** {@code model.layers.{layer}.self_attn.{q,k}_norm.weight}; which is "q" or "k". */
    public static String qkNorm(int layer, String which) {
        return layer(layer) + "self_attn." + which + "_norm.weight";
    }

    public static String postAttentionNorm(int layer) {
        return layer(layer) + "post_attention_layernorm.weight";
    }

    public static String postFeedforwardNorm(int layer) {
        return layer(layer) + "post_feedforward_layernorm.weight";
    }

    /**
     * Hugging Face name of an FFN projection ({@code proj} "gate", "up" or "down") of expert {@code expert},
     * or of the dense FFN when {@code dense}.
     */
    public static String ffn(int layer, int expert, boolean dense, String proj) {
        return ffnPrefix(layer, expert, dense) + proj + "_proj.weight";
    }

    /** Internal name of the fused gate|up projection [2F, D]. */
    public static String ffnGateUp(int layer, int expert, boolean dense) {
        return ffnPrefix(layer, expert, dense) + "gate_up_proj.weight";
    }

    /** Hugging Face name of the router matrix [E, D] of a layer. */
    public static String router(int layer) {
        return layer(layer) + "mlp.gate.weight";
    }

    /** Hugging Face name of the expert-bias vector [E] of a layer. */
    public static String expertBias(int layer) {
        return layer(layer) + "mlp.gate.expert_bias";
    }

    /** Internal name of router row e [D]. */
    public static String routerRow(int layer, int expert) {
        return router(layer) + "[" + expert + "]";
    }

    /** Internal name of the bias of expert e >= 1 [1]. */
    public static String expertBias(int layer, int expert) {
        return expertBias(layer) + "[" + expert + "]";
    }

    private static String ffnPrefix(int layer, int expert, boolean dense) {
        return dense ? layer(layer) + "mlp." : layer(layer) + "mlp.experts." + expert + ".";
    }

    private static String layer(int layer) {
        return "model.layers." + layer + ".";
    }
}
