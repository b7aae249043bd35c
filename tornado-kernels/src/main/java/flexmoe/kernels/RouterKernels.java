package flexmoe.kernels;

/**
 * FlexOlmo router bodies (reference/FLEXOLMO.md, "Architecture" and "Negative bias b_i").
 *
 * <p>Forward, per token t: {@code l[t,i] = R_i · h_t + (i >= 1 ? min(b_i, 0) : 0)}. Expert 0 is the public
 * expert and never gets a bias (b[0] is never read). Softmax over ALL E experts; top-k of the logits; the
 * gate weights are the selected probabilities WITHOUT renormalisation (so they sum to less than 1 when
 * k < E). The router has no linear bias. Router z-loss: {@code zWeight * mean_t lse(l_t)^2}.
 *
 * <p>Top-k ties: experts are ranked by logit, descending; equal logits rank the LOWER expert index first.
 * The selection runs on the logits, not on the probabilities, so two logits that differ but whose
 * probabilities round to the same float are still ranked by logit. A NaN logit never beats another
 * candidate, so k distinct, in-range ids are written whatever the values.
 *
 * <p>Bias subgradient: {@code d min(b, 0) / db} is 1 for b < 0, 0 for b > 0 and 0.5 at b == 0, PyTorch's
 * {@code torch.minimum} convention (a tie splits the gradient evenly between the two arguments). This
 * matters in practice: a bias initialised at exactly 0 still receives half its gradient and can move
 * negative.
 *
 * <p>Backward is split in two so the caller can reach the per-token logit gradients in between (DP
 * per-example clipping): {@link #logitsBackwardToken} gives dLogits from the gate gradients and the
 * z-loss; {@link #inputGradToken}, {@link #weightGradCell} and {@link #biasGrad} propagate dLogits to
 * h, R and b. Parameter gradients (dR, db) and the residual-stream gradient dH ACCUMULATE (+=);
 * dLogits is OVERWRITTEN.
 *
 * <p>TornadoVM rules followed: no allocation, no {@code Math.fma}, every output element written; the probs
 * row doubles as the logits scratch so no local array is needed.
 */
public final class RouterKernels {

    private RouterKernels() {
    }

    /**
     * Forward for token t. h [T, D], r [E, D], b [E] -> probs [T, E], lse [T], ids [T, k], gates [T, k],
     * all OVERWRITTEN. ids of a token are in descending logit order (ties: lower index first);
     * {@code gates[t,s] = probs[t, ids[t,s]]}.
     */
    public static void forwardToken(int t, float[] h, int hOff, float[] r, int rOff, float[] b, int bOff,
                                    float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                                    float[] gates, int gOff, int dim, int experts, int k) {
        int hr = hOff + t * dim;
        int pr = pOff + t * experts;
        int ir = idsOff + t * k;
        int gr = gOff + t * k;
        for (int i = 0; i < experts; i++) {
            int rr = rOff + i * dim;
            float s = 0f;
            for (int d = 0; d < dim; d++) {
                s += r[rr + d] * h[hr + d];
            }
            if (i >= 1) {
                // Math.min, not a ternary: a NaN bias must poison the logit, not silently read as 0.
                s += Math.min(b[bOff + i], 0f);
            }
            probs[pr + i] = s;
        }
        for (int slot = 0; slot < k; slot++) {
            int best = -1;
            for (int i = 0; i < experts; i++) {
                boolean taken = false;
                for (int q = 0; q < slot; q++) {
                    if (ids[ir + q] == i) {
                        taken = true;
                    }
                }
                // Strict '>' while scanning upwards: an equal logit never displaces a lower index.
                if (!taken && (best < 0 || probs[pr + i] > probs[pr + best])) {
                    best = i;
                }
            }
            ids[ir + slot] = best;
        }
        float max = probs[pr];
        for (int i = 1; i < experts; i++) {
            max = Math.max(max, probs[pr + i]);
        }
        float sum = 0f;
        for (int i = 0; i < experts; i++) {
            float e = (float) Math.exp(probs[pr + i] - max);
            probs[pr + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < experts; i++) {
            probs[pr + i] = probs[pr + i] * inv;
        }
        lse[lseOff + t] = max + (float) Math.log(sum);
        for (int slot = 0; slot < k; slot++) {
            gates[gr + slot] = probs[pr + ids[ir + slot]];
        }
    }

    /**
     * Router z-loss, one work item, tokens summed in index order (deterministic on every backend).
     * lse [T] -> out[outOff] (OVERWRITTEN) = {@code zWeight / T * sum_t lse[t]^2}. Float accumulation: the
     * value is logged, never differentiated (the gradient is in {@link #logitsBackwardToken}).
     */
    public static void zLoss(float[] lse, int lseOff, int tokens, float zWeight, float[] out, int outOff) {
        float sum = 0f;
        for (int t = 0; t < tokens; t++) {
            float v = lse[lseOff + t];
            sum += v * v;
        }
        out[outOff] = zWeight * (sum / tokens);
    }

    /**
     * Logit gradient for token t. probs [T, E], lse [T], ids [T, k], dGate [T, k] -> dLogits [T, E]
     * (OVERWRITTEN). With dp the gate gradient scattered onto the selected experts (0 elsewhere; repeated
     * ids add up), softmax backward gives {@code p_j (dp_j - sum_i p_i dp_i)}; the z-loss
     * {@code zWeight / T * lse^2} adds {@code zWeight / T * 2 lse * p_j}.
     */
    public static void logitsBackwardToken(int t, float[] probs, int pOff, float[] lse, int lseOff,
                                           int[] ids, int idsOff, float[] dGate, int dgOff, float zWeight,
                                           float[] dLogits, int dlOff, int tokens, int experts, int k) {
        int pr = pOff + t * experts;
        int ir = idsOff + t * k;
        int gr = dgOff + t * k;
        int dr = dlOff + t * experts;
        float dot = 0f;
        for (int s = 0; s < k; s++) {
            dot += dGate[gr + s] * probs[pr + ids[ir + s]];
        }
        float z = 2f * (zWeight / tokens) * lse[lseOff + t];
        for (int j = 0; j < experts; j++) {
            float dp = 0f;
            for (int s = 0; s < k; s++) {
                if (ids[ir + s] == j) {
                    dp += dGate[gr + s];
                }
            }
            dLogits[dr + j] = probs[pr + j] * (dp - dot + z);
        }
    }

    /**
     * Residual-stream gradient for token t. dLogits [T, E], r [E, D] -> dH [T, D] ACCUMULATED:
     * {@code dH[t,d] += sum_i dLogits[t,i] R[i,d]} (h also feeds the experts and the residual).
     */
    public static void inputGradToken(int t, float[] dLogits, int dlOff, float[] r, int rOff,
                                      float[] dH, int dHOff, int dim, int experts) {
        int dr = dlOff + t * experts;
        int hr = dHOff + t * dim;
        for (int d = 0; d < dim; d++) {
            float s = 0f;
            for (int i = 0; i < experts; i++) {
                s += dLogits[dr + i] * r[rOff + i * dim + d];
            }
            dH[hr + d] += s;
        }
    }

    /**
     * Router-embedding gradient, one cell (i, d). dLogits [T, E], h [T, D] -> dR [E, D] ACCUMULATED:
     * {@code dR[i,d] += sum_t dLogits[t,i] h[t,d]}, tokens in index order (deterministic, no races).
     */
    public static void weightGradCell(int i, int d, float[] dLogits, int dlOff, float[] h, int hOff,
                                      float[] dR, int dROff, int tokens, int dim, int experts) {
        float s = 0f;
        for (int t = 0; t < tokens; t++) {
            s += dLogits[dlOff + t * experts + i] * h[hOff + t * dim + d];
        }
        dR[dROff + i * dim + d] += s;
    }

    /**
     * Bias gradient, expert i. dLogits [T, E], b [E] -> db [E] ACCUMULATED:
     * {@code db[i] += min'(b_i) * sum_t dLogits[t,i]} for i >= 1 with min' = 1 (b < 0), 0.5 (b == 0),
     * 0 (b > 0); db[0] += 0 (the public expert has no bias).
     */
    public static void biasGrad(int i, float[] dLogits, int dlOff, float[] b, int bOff, float[] db, int dbOff,
                                int tokens, int experts) {
        float s = 0f;
        for (int t = 0; t < tokens; t++) {
            s += dLogits[dlOff + t * experts + i];
        }
        float bi = b[bOff + i];
        float slope = bi < 0f ? 1f : (bi == 0f ? 0.5f : 0f);
        if (i == 0) {
            slope = 0f;
        }
        db[dbOff + i] += slope * s;
    }
}
