package flexmoe.moe.model;

/**
 * Model FLOPs per trained token, the numerator of MFU (model FLOPs utilisation), in the PaLM convention
 * (Chowdhery et al. 2022, appendix B): {@code 6 N + 12 L S D} where
 * <ul>
 *   <li>{@code N} = the parameters one token multiplies with: per layer {@code 4 D²} (q, k, v, o), the router
 *       {@code E D} (MoE only) and {@code k · 3 D F} (the k active SwiGLU experts: gate, up, down); plus the LM
 *       head {@code V D}. The embedding is a lookup (no FLOPs) and is not counted; norms, RoPE, SwiGLU, softmax
 *       and the optimizer are elementwise and not counted either, as is usual.</li>
 *   <li>{@code 6 N}: 2 FLOPs per multiply-add forward, twice that backward (input and weight gradients).</li>
 *   <li>{@code 12 L S D}: attention scores and their weighted sum, {@code 2 · 2 S D} per token per layer
 *       forward, times 3 for forward + backward, with S the sequence length. As in PaLM the causal mask is not
 *       discounted, although the kernels only compute keys {@code j <= i} (about half of that work).</li>
 * </ul>
 * This counts the work of training every parameter. Expert training skips the weight gradients of frozen
 * tensors and the backward below the lowest trained layer, so its real FLOPs are lower; its MFU is still
 * quoted against this count, the convention for "model" FLOPs.
 */
public final class ModelFlops {

    private ModelFlops() {
    }

    /** {@code N}: parameters multiplied per token (see the class comment). */
    public static long activeMatmulParameters(ModelConfig c) {
        long d = c.dim(), f = c.ffnHidden();
        long perLayer = 4 * d * d + (long) c.topK() * 3 * d * f + (c.isDense() ? 0 : (long) c.experts() * d);
        return c.layers() * perLayer + (long) c.vocabSize() * d;
    }

    /** {@code 6 N + 12 L S D}: training FLOPs per token at sequence length {@code seq}. */
    public static double trainingFlopsPerToken(ModelConfig c, int seq) {
        return 6.0 * activeMatmulParameters(c) + 12.0 * c.layers() * seq * c.dim();
    }

    /** {@code 2 N + 4 L S D}: forward-only FLOPs per token (evaluation). */
    public static double forwardFlopsPerToken(ModelConfig c, int seq) {
        return 2.0 * activeMatmulParameters(c) + 4.0 * c.layers() * seq * c.dim();
    }
}
