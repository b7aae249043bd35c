package flexmoe.moe.generate;

import flexmoe.kernels.Backend;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token of each sequence from its logits row, as {@link Sampling} describes. The temperature
 * scaling and the softmax run on the backend (one call for all sequences); what is left on the host is choosing
 * among V probabilities (a sort for top-k / top-p and one uniform draw per token), for which there is no kernel.
 */
final class TokenSampler {

    private final Backend backend;
    private final int vocab;
    private final int batch;
    /** The sequences' last logits rows, then scaled, [B, V]. */
    private final float[] rows;
    private final float[] probs;
    /** Sort keys: descending probability, then ascending id. */
    private final long[] keys;

    TokenSampler(Backend backend, int vocab, int batch) {
        this.backend = backend;
        this.vocab = vocab;
        this.batch = batch;
        this.rows = new float[batch * vocab];
        this.probs = new float[batch * vocab];
        this.keys = new long[vocab];
    }

    /**
     * For each active sequence b, the token after its last row of {@code logits} (row {@code b * count + count - 1}
     * of {@code [B * count, V]}) into {@code out[b]}; one uniform draw from {@code rngs[b]} per sampled token
     * (none when greedy), so a sequence's draws do not depend on the others.
     */
    void next(float[] logits, int count, Sampling s, SplittableRandom[] rngs, boolean[] active, int[] out) {
        int v = vocab;
        if (s.isGreedy()) {
            for (int b = 0; b < batch; b++) {
                if (active[b]) {
                    out[b] = argmax(logits, (b * count + count - 1) * v, v);
                }
            }
            return;
        }
        for (int b = 0; b < batch; b++) {
            System.arraycopy(logits, (b * count + count - 1) * v, rows, b * v, v);
        }
        backend.transformer().scale(rows, 0, (float) (1 / s.temperature()), rows, 0, batch * v);
        backend.transformer().softmaxForward(rows, 0, probs, 0, batch, v);
        for (int b = 0; b < batch; b++) {
            if (active[b]) {
                out[b] = pick(probs, b * v, v, s.topK(), s.topP(), rngs[b].nextDouble(), keys);
            }
        }
    }

    /** Index of the largest of {@code x[off, off + n)} relative to off; ties to the lower index. */
    static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (x[off + j] > x[off + best]) {
                best = j;
            }
        }
        return best;
    }

    /**
     * Draws from the distribution {@code probs[off, off + n)} truncated to its {@code topK} most probable entries
     * (0 = all), renormalised, then to the smallest prefix (most probable first) whose mass reaches {@code topP} of
     * that, renormalised; {@code u} in [0, 1) is the uniform draw (inverse CDF in that order). {@code keys} is
     * scratch of at least n.
     */
    static int pick(float[] probs, int off, int n, int topK, double topP, double u, long[] keys) {
        for (int j = 0; j < n; j++) {
            // Probabilities are >= 0, so their bit patterns order like their values.
            int bits = Float.floatToRawIntBits(probs[off + j]);
            keys[j] = ((long) (Integer.MAX_VALUE - bits) << 32) | j;
        }
        Arrays.sort(keys, 0, n);
        int kept = topK == 0 ? n : Math.min(topK, n);
        double total = 0;
        for (int i = 0; i < kept; i++) {
            total += probs[off + id(keys[i])];
        }
        if (topP < 1) {
            double cum = 0;
            for (int i = 0; i < kept; i++) {
                cum += probs[off + id(keys[i])];
                if (cum >= topP * total) {
                    kept = i + 1;
                    total = cum;
                    break;
                }
            }
        }
        double target = u * total;
        double cum = 0;
        for (int i = 0; i < kept; i++) {
            cum += probs[off + id(keys[i])];
            if (target < cum) {
                return id(keys[i]);
            }
        }
        return id(keys[kept - 1]);
    }

    private static int id(long key) {
        return (int) key;
    }
}
