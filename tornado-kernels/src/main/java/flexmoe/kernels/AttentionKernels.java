package flexmoe.kernels;

/**
 * Causal multi-head self-attention, forward and flash-attention-style backward, one (batch b, head h, row)
 * per work item. Shapes (row-major, D = H * hd, head h is the column slice {@code [h*hd, (h+1)*hd)}):
 * {@code q, out, dOut, dq [B, Sq, D]}; {@code k, v, dk, dv [B, Sk, D]}; {@code lse, delta [B, H, Sq]}.
 * Training uses {@code Sq = Sk = S}. Scores are {@code q_i . k_j / sqrt(hd)}.
 *
 * <p>Nothing of size S x S is stored: the forward keeps only the row logsumexp {@code lse}, and the backward
 * recomputes each probability as {@code exp(s_ij - lse_i)} with the same dot-product code, so it matches the
 * forward's. The backward is deterministic without atomics: dq is owned by the query row (loop over keys
 * {@code j <= i}), dk and dv by the key row (loop over queries {@code i >= j}); the price is computing each
 * score twice. Input gradients dq, dk, dv are OVERWRITTEN.
 */
public final class AttentionKernels {

    private AttentionKernels() {
    }

    /**
     * Forward for query row i of sequence b, head h: out row OVERWRITTEN, {@code lse[b, h, i]} OVERWRITTEN.
     * Query row i sits at absolute position {@code queryStart[0] + i} and attends to keys
     * {@code j <= queryStart[0] + i} (and {@code j < Sk}). Training passes {@code queryStart = {0}} and
     * {@code Sq = Sk}; KV-cache generation passes the new tokens as q with the cache as k and v. The start is in
     * a holder because it changes between calls and TornadoVM bakes scalars into the compiled kernel.
     *
     * <p>Online softmax: the running max only rescales the accumulator (the out row itself, so no local array)
     * when it grows, which on typical scores is a handful of times per row. exp/log are single-precision values
     * of double calls ((float) Math.exp), which TornadoVM compiles.
     */
    public static void attentionRow(int b, int h, int i, float[] q, int qOff, float[] k, int kOff, float[] v,
                                    int vOff, float[] out, int outOff, float[] lse, int lseOff, int seqQ, int seqK,
                                    int heads, int headDim, int[] queryStart) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int qi = qOff + (b * seqQ + i) * dim + h * headDim;
        int oi = outOff + (b * seqQ + i) * dim + h * headDim;
        int kb = kOff + b * seqK * dim + h * headDim;
        int vb = vOff + b * seqK * dim + h * headDim;
        int keys = Math.min(queryStart[0] + i + 1, seqK);
        for (int d = 0; d < headDim; d++) {
            out[oi + d] = 0f;
        }
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int j = 0; j < keys; j++) {
            float s = dot(q, qi, k, kb + j * dim, headDim) * scale;
            if (s > max) {
                // First key: exp(-inf) = 0 clears nothing, the accumulator is already zero.
                float c = (float) Math.exp(max - s);
                sum *= c;
                for (int d = 0; d < headDim; d++) {
                    out[oi + d] = out[oi + d] * c;
                }
                max = s;
            }
            float p = (float) Math.exp(s - max);
            sum += p;
            int vj = vb + j * dim;
            for (int d = 0; d < headDim; d++) {
                out[oi + d] = out[oi + d] + p * v[vj + d];
            }
        }
        float inv = 1f / sum;
        for (int d = 0; d < headDim; d++) {
            out[oi + d] = out[oi + d] * inv;
        }
        lse[lseOff + (b * heads + h) * seqQ + i] = max + (float) Math.log(sum);
    }

    /**
     * {@code delta[b, h, i] = sum_d dOut[b, i, h, d] * out[b, i, h, d]} (= sum_j P_ij dP_ij, the softmax
     * backward's row term), OVERWRITTEN. Computed once per row because every key row's dk needs all of them.
     */
    public static void attentionDeltaRow(int b, int h, int i, float[] out, int outOff, float[] dOut, int dOutOff,
                                         float[] delta, int deltaOff, int seq, int heads, int headDim) {
        int dim = heads * headDim;
        int row = (b * seq + i) * dim + h * headDim;
        delta[deltaOff + (b * heads + h) * seq + i] = dot(dOut, dOutOff + row, out, outOff + row, headDim);
    }

    /**
     * dq for query row i (training form, Sq = Sk = S): {@code dq_i = scale * sum_{j<=i} P_ij (dP_ij - delta_i) k_j}
     * with {@code dP_ij = dOut_i . v_j}. dq row (head h) OVERWRITTEN.
     */
    public static void attentionBackwardQueryRow(int b, int h, int i, float[] q, int qOff, float[] k, int kOff,
                                                 float[] v, int vOff, float[] lse, int lseOff, float[] dOut,
                                                 int dOutOff, float[] delta, int deltaOff, float[] dq, int dqOff,
                                                 int seq, int heads, int headDim) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int row = (b * seq + i) * dim + h * headDim;
        int kb = kOff + b * seq * dim + h * headDim;
        int vb = vOff + b * seq * dim + h * headDim;
        int stat = (b * heads + h) * seq + i;
        float l = lse[lseOff + stat];
        float di = delta[deltaOff + stat];
        int out = dqOff + row;
        for (int d = 0; d < headDim; d++) {
            dq[out + d] = 0f;
        }
        for (int j = 0; j <= i; j++) {
            float p = (float) Math.exp(dot(q, qOff + row, k, kb + j * dim, headDim) * scale - l);
            float ds = p * (dot(dOut, dOutOff + row, v, vb + j * dim, headDim) - di);
            int kj = kb + j * dim;
            for (int d = 0; d < headDim; d++) {
                dq[out + d] = dq[out + d] + ds * k[kj + d];
            }
        }
        for (int d = 0; d < headDim; d++) {
            dq[out + d] = dq[out + d] * scale;
        }
    }

    /**
     * dk and dv for key row j (training form): {@code dv_j = sum_{i>=j} P_ij dOut_i},
     * {@code dk_j = scale * sum_{i>=j} P_ij (dP_ij - delta_i) q_i}. dk and dv rows (head h) OVERWRITTEN.
     */
    public static void attentionBackwardKeyRow(int b, int h, int j, float[] q, int qOff, float[] k, int kOff,
                                               float[] v, int vOff, float[] lse, int lseOff, float[] dOut,
                                               int dOutOff, float[] delta, int deltaOff, float[] dk, int dkOff,
                                               float[] dv, int dvOff, int seq, int heads, int headDim) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int row = (b * seq + j) * dim + h * headDim;
        int seqBase = b * seq * dim + h * headDim;
        int stats = (b * heads + h) * seq;
        int ko = dkOff + row;
        int vo = dvOff + row;
        for (int d = 0; d < headDim; d++) {
            dk[ko + d] = 0f;
            dv[vo + d] = 0f;
        }
        for (int i = j; i < seq; i++) {
            int qi = seqBase + i * dim;
            // Same argument order as the forward's dot, so the recomputed score has the forward's bits.
            float p = (float) Math.exp(dot(q, qOff + qi, k, kOff + row, headDim) * scale - lse[lseOff + stats + i]);
            float ds = p * (dot(dOut, dOutOff + qi, v, vOff + row, headDim) - delta[deltaOff + stats + i]);
            for (int d = 0; d < headDim; d++) {
                dv[vo + d] = dv[vo + d] + p * dOut[dOutOff + qi + d];
                dk[ko + d] = dk[ko + d] + ds * q[qOff + qi + d];
            }
        }
        for (int d = 0; d < headDim; d++) {
            dk[ko + d] = dk[ko + d] * scale;
        }
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int d = 0; d < n; d++) {
            s += a[aOff + d] * b[bOff + d];
        }
        return s;
    }
}
