package flexmoe.kernels;

/**
 * Per-example squared gradient norms of a linear layer {@code y = W a} (W [dout, din]) without
 * materialising every per-example gradient (DP-SGD clipping; reference/DP.md §4).
 *
 * <p>Rows of {@code A [rows, din]} (layer inputs) and {@code G [rows, dout]} (gradients of the loss at the
 * layer outputs) are grouped into examples by segment offsets {@code seg [examples + 1]}: example i owns
 * rows {@code [seg[i], seg[i+1])} (its tokens for a dense layer; its routed tokens in an expert's gathered
 * block). Its weight gradient is {@code G_iᵀ A_i} and
 * <pre>
 *   norm2[i] = ‖G_iᵀ A_i‖_F² = Σ_{s,t in seg i} (a_s·a_t)(g_s·g_t)
 * </pre>
 * Two exact forms of the same value:
 * <ul>
 *   <li>ghost (Goodfellow; Li et al. 2021): the Gram form above, O(T²(din + dout)) per example and no
 *       din×dout memory. {@link #ghostRow} computes row s's share (its diagonal term plus twice its
 *       products with the earlier rows of its example; symmetry halves the work), {@link #segmentSum}
 *       adds the shares of an example in row order.</li>
 *   <li>direct: forms G_iᵀA_i row by row, O(T·din·dout) per example. {@link #directRow} builds row o of
 *       every example's gradient in a [din] scratch row and squares it, {@link #directReduce} adds the
 *       dout row sums of an example in order.</li>
 * </ul>
 * Bu et al.'s rule picks ghost when {@code 2T² < din·dout} ({@link TrainingOps#useGhost}). The router row of
 * expert e is the case {@code dout = 1}: {@code G} is the column {@code dLogit[:, e]}.
 *
 * <p>All sums are float (GPUs prefer it): the dot products run over din or dout terms, the example sums
 * over T row shares, so the error grows with T·eps relative to Σ|terms|, far below what a clip factor
 * notices. Rows outside every segment contribute nothing.
 */
public final class PerExampleNormKernels {

    private PerExampleNormKernels() {
    }

    /**
     * Ghost share of row {@code s}: {@code partial[s] = (a_s·a_s)(g_s·g_s) + 2 Σ_{t in [seg[e], s)} (a_s·a_t)(g_s·g_t)}
     * where e is the example owning row s, or 0 if no example owns it. Shapes: {@code a [aOff + rows*din]},
     * {@code g [gOff + rows*dout]}, {@code seg [examples + 1]} non-decreasing, {@code partial [rows]}
     * OVERWRITTEN (row s only).
     */
    public static void ghostRow(int s, float[] a, int aOff, float[] g, int gOff, int[] seg, int examples,
                                int din, int dout, float[] partial) {
        // One exit and one store of partial[s] (TornadoVM rule): TornadoVM 5.2.0 mis-compiled the earlier
        // form, an early "partial[s] = 0; return;" for rows outside every example. Its OpenCL ran that block
        // after the normal path too, overwriting every share with 0 (see PerExampleNormLaunchers).
        int start = segmentStart(s, seg, examples);
        float share = 0f;
        if (start >= 0) {
            int as = aOff + s * din;
            int gs = gOff + s * dout;
            float cross = 0f;
            for (int t = start; t < s; t++) {
                int at = aOff + t * din;
                int gt = gOff + t * dout;
                float aa = 0f;
                for (int j = 0; j < din; j++) {
                    aa += a[as + j] * a[at + j];
                }
                float gg = 0f;
                for (int j = 0; j < dout; j++) {
                    gg += g[gs + j] * g[gt + j];
                }
                cross += aa * gg;
            }
            float aa = 0f;
            for (int j = 0; j < din; j++) {
                aa += a[as + j] * a[as + j];
            }
            float gg = 0f;
            for (int j = 0; j < dout; j++) {
                gg += g[gs + j] * g[gs + j];
            }
            share = aa * gg + 2f * cross;
        }
        partial[s] = share;
    }

    /**
     * {@code norm2[i] (+)= Σ partial[seg[i] .. seg[i+1])} in row order; an empty segment gives 0.
     * Shapes: {@code partial [rows]}, {@code seg [examples + 1]}, {@code norm2 [examples]} OVERWRITTEN, or
     * ACCUMULATED when {@code accumulate} (the joint norm over several layers is a sum of calls).
     */
    public static void segmentSum(int i, float[] partial, int[] seg, float[] norm2, boolean accumulate) {
        float s = 0f;
        for (int r = seg[i]; r < seg[i + 1]; r++) {
            s += partial[r];
        }
        norm2[i] = accumulate ? norm2[i] + s : s;
    }

    /**
     * Direct form for output row {@code o} of every example: {@code M = (G_iᵀ A_i)[o, :]} is built in
     * {@code scratch[o*din, (o+1)*din)} (adding {@code g[t,o] a_t} over the example's rows, contiguous in A),
     * then {@code scratch[dout*din + i*dout + o] = Σ_j M_j²}. Shapes: {@code a [aOff + rows*din]},
     * {@code g [gOff + rows*dout]}, {@code seg [examples + 1]}, {@code scratch [dout*din + examples*dout]}:
     * gradient rows, then per-example row sums (both regions OVERWRITTEN, row o / column o only). One
     * array with two regions keeps the op's signature to one scratch buffer (TornadoVM allows it).
     */
    public static void directRow(int o, float[] a, int aOff, float[] g, int gOff, int[] seg, int examples,
                                 int din, int dout, float[] scratch) {
        int row = o * din;
        int partial = dout * din;
        for (int i = 0; i < examples; i++) {
            for (int j = 0; j < din; j++) {
                scratch[row + j] = 0f;
            }
            for (int t = seg[i]; t < seg[i + 1]; t++) {
                float gv = g[gOff + t * dout + o];
                int at = aOff + t * din;
                for (int j = 0; j < din; j++) {
                    scratch[row + j] += gv * a[at + j];
                }
            }
            float sq = 0f;
            for (int j = 0; j < din; j++) {
                sq += scratch[row + j] * scratch[row + j];
            }
            scratch[partial + i * dout + o] = sq;
        }
    }

    /**
     * {@code norm2[i] (+)= Σ_o scratch[dout*din + i*dout + o]} in order (the row sums {@link #directRow}
     * left). Shapes: {@code scratch [dout*din + examples*dout]}, {@code norm2 [examples]} OVERWRITTEN, or
     * ACCUMULATED when {@code accumulate}.
     */
    public static void directReduce(int i, float[] scratch, int din, int dout, float[] norm2, boolean accumulate) {
        int base = dout * din + i * dout;
        float s = 0f;
        for (int o = 0; o < dout; o++) {
            s += scratch[base + o];
        }
        norm2[i] = accumulate ? norm2[i] + s : s;
    }

    /**
     * First row of the example owning row {@code s}, or -1 if none does: the largest e with
     * {@code seg[e] <= s}, by bisection over the non-decreasing offsets (a loop, no recursion).
     */
    private static int segmentStart(int s, int[] seg, int examples) {
        if (s < seg[0] || s >= seg[examples]) {
            return -1;
        }
        int lo = 0;
        int hi = examples;
        // Invariant: seg[lo] <= s < seg[hi].
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (seg[mid] <= s) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return seg[lo];
    }
}
