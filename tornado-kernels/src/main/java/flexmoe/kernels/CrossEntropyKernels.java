package flexmoe.kernels;

/**
 * Cross-entropy over a vocabulary with an optional logit z-loss, one token row per work item.
 *
 * <p>Per token t with logits {@code x = logits[t, :]}, target {@code y = targets[t]} and
 * {@code lse = log sum_j exp(x_j)}: {@code loss_t = lse - x_y + zw * lse²}. The z-loss term (PaLM;
 * OLMo-core uses zw = 1e-5 for the LM head during expert training) keeps the softmax normaliser near 1.
 * A target of {@link #IGNORE} (-1) marks a padding/masked position: loss 0 and gradient 0, but its lse
 * is still written so that no output element is left unwritten (TornadoVM rule 1).
 *
 * <p>Rows are long (V = 4096..32768) and read contiguously; every exp is max-subtracted (forward) or
 * lse-subtracted (backward), so no exp overflows whatever the logit scale.
 */
public final class CrossEntropyKernels {

    /** The target id that means "no loss at this position". */
    public static final int IGNORE = -1;

    private CrossEntropyKernels() {
    }

    /**
     * Forward for token {@code t}. Shapes: {@code logits [T, V]}, {@code targets [T]} (ids in [-1, V)),
     * {@code loss [T]}, {@code lse [T]}; both outputs OVERWRITTEN.
     *
     * <p>The loss is formed as {@code (max - x_y) + log(sum)} rather than {@code lse - x_y}: the first
     * difference is exact-ish (both are logits of similar size) so a large logit offset does not eat the
     * loss's low bits. The exp sum accumulates in float (at most V terms in [0, 1], max term exactly 1):
     * enough for a loss, and what a GPU prefers.
     */
    public static void forwardRow(int t, float[] logits, int[] targets, int vocab, float zLossWeight,
                                  float[] loss, float[] lse) {
        int base = t * vocab;
        float max = logits[base];
        for (int j = 1; j < vocab; j++) {
            max = Math.max(max, logits[base + j]);
        }
        float sum = 0f;
        for (int j = 0; j < vocab; j++) {
            sum += (float) Math.exp(logits[base + j] - max);
        }
        float logSum = (float) Math.log(sum);
        float l = max + logSum;
        lse[t] = l;
        int y = targets[t];
        if (y < 0) {
            loss[t] = 0f;
        } else {
            loss[t] = (max - logits[base + y]) + logSum + zLossWeight * l * l;
        }
    }

    /**
     * Backward for token {@code t}: {@code dlogits[t, j] = s * (p_j * (1 + 2 zw lse) - [j == y])} with
     * {@code p_j = exp(x_j - lse)} and {@code s = scale[0]} (dLoss_t, e.g. 1 / validTokens, in a holder
     * because it changes every batch). That is {@code (softmax - onehot) + zw * 2 lse * softmax}, factored.
     * Ignored tokens get a zero row. Shapes: {@code logits [T, V]}, {@code targets [T]}, {@code lse [T]}
     * from {@link #forwardRow} on the same logits, {@code scale [1]}, {@code dlogits [T, V]} OVERWRITTEN.
     *
     * <p>In place: {@code dlogits} may be the same array as {@code logits} (saves a [T, V] buffer, the
     * largest activation of a small model). Each element is read once before it is written, and the
     * target's logit is read before the loop, since the loop overwrites it.
     */
    public static void backwardRow(int t, float[] logits, int[] targets, float[] lse, int vocab, float zLossWeight,
                                   float[] scale, float[] dlogits) {
        int base = t * vocab;
        int y = targets[t];
        if (y < 0) {
            for (int j = 0; j < vocab; j++) {
                dlogits[base + j] = 0f;
            }
            return;
        }
        float l = lse[t];
        float s = scale[0];
        float c = 1f + 2f * zLossWeight * l;
        float xy = logits[base + y];
        for (int j = 0; j < vocab; j++) {
            float p = (float) Math.exp(logits[base + j] - l);
            dlogits[base + j] = s * (p * c);
        }
        float py = (float) Math.exp(xy - l);
        dlogits[base + y] = s * (py * c - 1f);
    }
}
