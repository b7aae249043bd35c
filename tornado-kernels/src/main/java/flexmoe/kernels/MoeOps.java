package flexmoe.kernels;

/**
 * Mixture-of-experts operations: the SwiGLU activation of the expert FFN, the FlexOlmo router and dropless
 * expert dispatch (gather / combine). Bodies and exact semantics: {@link SwiGluKernels},
 * {@link RouterKernels}, {@link DispatchKernels}.
 *
 * <p>One MoE layer, forward: {@link #routerForward} (ids, gates) -> {@link #dispatchPlan} -> {@link #gather}
 * (xe [T*k, D]) -> per expert e with {@code n_e = offsets[e+1] - offsets[e] > 0} rows from row
 * {@code offsets[e]}: GEMM with W1/W3, {@link #swigluForward}, GEMM with W2 (ye [T*k, D]) ->
 * {@link #combine} (y [T, D]). Backward runs the same chain in reverse; {@link #combineBackward} gives
 * dGate, which {@link #routerLogitsBackward} turns into dLogits (the per-token router gradient DP needs)
 * and {@link #routerLinearBackward} propagates to h, R and b. An expert with no rows must be skipped by
 * the caller (GEMMs need at least one row).
 *
 * <p>Arrays are row-major, each a contiguous block starting at its offset; the shapes below use T tokens,
 * D model width, F expert hidden width, E experts (the public expert is 0), k active experts per token.
 *
 * <p>Gradients: parameter gradients (dR, db) and gradients of the residual stream h (dH from the router,
 * dh from the gather) ACCUMULATE (+=), since h feeds the router, the experts and the residual connection;
 * every other gradient is a per-op intermediate and is OVERWRITTEN (its old contents, NaN included, are
 * never read). Every operation validates all arguments, the contents of index arrays included, before it
 * touches memory.
 */
public interface MoeOps {

    // ---- SwiGLU -------------------------------------------------------------------------------------

    /** {@code h = silu(a) * u}; a, u, h [rows, F]; h overwritten. */
    void swigluForward(float[] a, int aOff, float[] u, int uOff, float[] h, int hOff, int rows, int f);

    /** Backward of {@link #swigluForward}; a, u, dh, da, du [rows, F]; da, du overwritten. */
    void swigluBackward(float[] a, int aOff, float[] u, int uOff, float[] dh, int dhOff,
                        float[] da, int daOff, float[] du, int duOff, int rows, int f);

    /**
     * Fused layout: gu [rows, 2F] holds the gate pre-activation in columns [0, F) and the up projection in
     * [F, 2F) (one GEMM with W1 and W3 stacked as [2F, D]); h [rows, F] overwritten.
     */
    void swigluFusedForward(float[] gu, int guOff, float[] h, int hOff, int rows, int f);

    /** Backward of {@link #swigluFusedForward}; dh [rows, F]; dGu [rows, 2F] overwritten (da | du). */
    void swigluFusedBackward(float[] gu, int guOff, float[] dh, int dhOff, float[] dGu, int dGuOff,
                             int rows, int f);

    // ---- Router -------------------------------------------------------------------------------------

    /**
     * h [T, D], r [E, D], b [E] (b[0] never read) -> probs [T, E], lse [T], ids [T, k] (descending logit,
     * ties to the lower index), gates [T, k] = selected probs, not renormalised. All outputs overwritten.
     */
    void routerForward(float[] h, int hOff, float[] r, int rOff, float[] b, int bOff,
                       float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                       float[] gates, int gOff, int tokens, int dim, int experts, int k);

    /** {@code zWeight * mean_t lse[t]^2}, summed in token order (same value on every backend run). */
    float routerZLoss(float[] lse, int lseOff, int tokens, float zWeight);

    /**
     * probs [T, E], lse [T], ids [T, k], dGate [T, k] -> dLogits [T, E] (overwritten): softmax backward of
     * the gate gradients plus the gradient of {@code zWeight * mean_t lse^2}.
     */
    void routerLogitsBackward(float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                              float[] dGate, int dgOff, float zWeight, float[] dLogits, int dlOff,
                              int tokens, int experts, int k);

    /**
     * dLogits [T, E], h [T, D], r [E, D], b [E] -> dH [T, D] +=, dR [E, D] +=, db [E] += (db[0] += 0;
     * {@code d min(b, 0)/db} = 1 below 0, 0.5 at 0, 0 above).
     */
    void routerLinearBackward(float[] dLogits, int dlOff, float[] h, int hOff, float[] r, int rOff,
                              float[] b, int bOff, float[] dH, int dHOff, float[] dR, int dROff,
                              float[] db, int dbOff, int tokens, int dim, int experts);

    // ---- Dispatch -----------------------------------------------------------------------------------

    /**
     * ids [T, k] in [0, E) -> counts [E], offsets [E + 1], slotRow [T * k], rowToken [T * k], all
     * overwritten. Expert e's rows are [offsets[e], offsets[e+1]) in token order.
     */
    void dispatchPlan(int[] ids, int idsOff, int tokens, int experts, int k, int[] counts, int cOff,
                      int[] offsets, int oOff, int[] slotRow, int srOff, int[] rowToken, int rtOff);

    /** h [T, D], rowToken [T * k] -> xe [T * k, D] (overwritten), {@code xe[row] = h[rowToken[row]]}. */
    void gather(float[] h, int hOff, int[] rowToken, int rtOff, float[] xe, int xeOff, int tokens, int dim, int k);

    /** dXe [T * k, D], slotRow [T * k] -> dh [T, D] +=, {@code dh[t] += sum_s dXe[slotRow[t,s]]}. */
    void gatherBackward(float[] dXe, int dxOff, int[] slotRow, int srOff, float[] dh, int dhOff,
                        int tokens, int dim, int k);

    /** ye [T * k, D], slotRow, gates [T, k] -> y [T, D] (overwritten), {@code y[t] = sum_s g * ye[row]}. */
    void combine(float[] ye, int yeOff, int[] slotRow, int srOff, float[] gates, int gOff, float[] y, int yOff,
                 int tokens, int dim, int k);

    /**
     * dy [T, D], ye [T * k, D], gates [T, k], a dispatch plan (slotRow, rowToken) -> dYe [T * k, D] and
     * dGate [T, k], both overwritten: {@code dYe[slotRow[t,s]] = gates[t,s] dy[t]},
     * {@code dGate[t,s] = dy[t] · ye[slotRow[t,s]]}.
     */
    void combineBackward(float[] dy, int dyOff, float[] ye, int yeOff, float[] gates, int gOff,
                         int[] slotRow, int srOff, int[] rowToken, int rtOff,
                         float[] dYe, int dYeOff, float[] dGate, int dgOff, int tokens, int dim, int k);

    // ---- Argument checks shared by every implementation -----------------------------------------------

    /** Checks for {@link #swigluForward}. */
    static void checkSwigluForward(float[] a, int aOff, float[] u, int uOff, float[] h, int hOff, int rows, int f) {
        String op = "swigluForward";
        long n = rowsTimesF(op, rows, f);
        KernelArgs.length(op, "a", a, aOff, n);
        KernelArgs.length(op, "u", u, uOff, n);
        KernelArgs.length(op, "h", h, hOff, n);
    }

    /** Checks for {@link #swigluBackward}. */
    static void checkSwigluBackward(float[] a, int aOff, float[] u, int uOff, float[] dh, int dhOff,
                                    float[] da, int daOff, float[] du, int duOff, int rows, int f) {
        String op = "swigluBackward";
        long n = rowsTimesF(op, rows, f);
        KernelArgs.length(op, "a", a, aOff, n);
        KernelArgs.length(op, "u", u, uOff, n);
        KernelArgs.length(op, "dh", dh, dhOff, n);
        KernelArgs.length(op, "da", da, daOff, n);
        KernelArgs.length(op, "du", du, duOff, n);
    }

    /** Checks for {@link #swigluFusedForward}. */
    static void checkSwigluFusedForward(float[] gu, int guOff, float[] h, int hOff, int rows, int f) {
        String op = "swigluFusedForward";
        long n = rowsTimesF(op, rows, f);
        KernelArgs.length(op, "gu", gu, guOff, KernelArgs.size(op, n, 2));
        KernelArgs.length(op, "h", h, hOff, n);
    }

    /** Checks for {@link #swigluFusedBackward}. */
    static void checkSwigluFusedBackward(float[] gu, int guOff, float[] dh, int dhOff, float[] dGu, int dGuOff,
                                         int rows, int f) {
        String op = "swigluFusedBackward";
        long n = rowsTimesF(op, rows, f);
        KernelArgs.length(op, "gu", gu, guOff, KernelArgs.size(op, n, 2));
        KernelArgs.length(op, "dh", dh, dhOff, n);
        KernelArgs.length(op, "dGu", dGu, dGuOff, KernelArgs.size(op, n, 2));
    }

    /** Checks for {@link #routerForward}. */
    static void checkRouterForward(float[] h, int hOff, float[] r, int rOff, float[] b, int bOff,
                                   float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                                   float[] gates, int gOff, int tokens, int dim, int experts, int k) {
        String op = "routerForward";
        routingDims(op, tokens, experts, k);
        KernelArgs.positive(op, "dim", dim);
        KernelArgs.length(op, "h", h, hOff, KernelArgs.size(op, tokens, dim));
        KernelArgs.length(op, "r", r, rOff, KernelArgs.size(op, experts, dim));
        KernelArgs.length(op, "b", b, bOff, experts);
        KernelArgs.length(op, "probs", probs, pOff, KernelArgs.size(op, tokens, experts));
        KernelArgs.length(op, "lse", lse, lseOff, tokens);
        KernelArgs.length(op, "ids", ids, idsOff, KernelArgs.size(op, tokens, k));
        KernelArgs.length(op, "gates", gates, gOff, KernelArgs.size(op, tokens, k));
    }

    /** Checks for {@link #routerZLoss}. */
    static void checkRouterZLoss(float[] lse, int lseOff, int tokens) {
        KernelArgs.positive("routerZLoss", "tokens", tokens);
        KernelArgs.length("routerZLoss", "lse", lse, lseOff, tokens);
    }

    /** Checks for {@link #routerLogitsBackward}, ids in range included. */
    static void checkRouterLogitsBackward(float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                                          float[] dGate, int dgOff, float[] dLogits, int dlOff,
                                          int tokens, int experts, int k) {
        String op = "routerLogitsBackward";
        routingDims(op, tokens, experts, k);
        long te = KernelArgs.size(op, tokens, experts);
        long tk = KernelArgs.size(op, tokens, k);
        KernelArgs.length(op, "probs", probs, pOff, te);
        KernelArgs.length(op, "lse", lse, lseOff, tokens);
        KernelArgs.length(op, "ids", ids, idsOff, tk);
        KernelArgs.length(op, "dGate", dGate, dgOff, tk);
        KernelArgs.length(op, "dLogits", dLogits, dlOff, te);
        inRange(op, "ids", ids, idsOff, (int) tk, experts);
    }

    /** Checks for {@link #routerLinearBackward}. */
    static void checkRouterLinearBackward(float[] dLogits, int dlOff, float[] h, int hOff, float[] r, int rOff,
                                          float[] b, int bOff, float[] dH, int dHOff, float[] dR, int dROff,
                                          float[] db, int dbOff, int tokens, int dim, int experts) {
        String op = "routerLinearBackward";
        KernelArgs.positive(op, "tokens", tokens);
        KernelArgs.positive(op, "dim", dim);
        KernelArgs.positive(op, "experts", experts);
        long td = KernelArgs.size(op, tokens, dim);
        long ed = KernelArgs.size(op, experts, dim);
        KernelArgs.length(op, "dLogits", dLogits, dlOff, KernelArgs.size(op, tokens, experts));
        KernelArgs.length(op, "h", h, hOff, td);
        KernelArgs.length(op, "r", r, rOff, ed);
        KernelArgs.length(op, "b", b, bOff, experts);
        KernelArgs.length(op, "dH", dH, dHOff, td);
        KernelArgs.length(op, "dR", dR, dROff, ed);
        KernelArgs.length(op, "db", db, dbOff, experts);
    }

    /** Checks for {@link #dispatchPlan}, ids in range included. */
    static void checkDispatchPlan(int[] ids, int idsOff, int tokens, int experts, int k, int[] counts, int cOff,
                                  int[] offsets, int oOff, int[] slotRow, int srOff, int[] rowToken, int rtOff) {
        String op = "dispatchPlan";
        routingDims(op, tokens, experts, k);
        long tk = KernelArgs.size(op, tokens, k);
        KernelArgs.length(op, "ids", ids, idsOff, tk);
        KernelArgs.length(op, "counts", counts, cOff, experts);
        KernelArgs.length(op, "offsets", offsets, oOff, experts + 1L);
        KernelArgs.length(op, "slotRow", slotRow, srOff, tk);
        KernelArgs.length(op, "rowToken", rowToken, rtOff, tk);
        inRange(op, "ids", ids, idsOff, (int) tk, experts);
    }

    /** Checks for {@link #gather}, rowToken entries in [0, T) included. */
    static void checkGather(float[] h, int hOff, int[] rowToken, int rtOff, float[] xe, int xeOff,
                            int tokens, int dim, int k) {
        String op = "gather";
        long rows = dispatchDims(op, tokens, dim, k);
        KernelArgs.length(op, "h", h, hOff, KernelArgs.size(op, tokens, dim));
        KernelArgs.length(op, "rowToken", rowToken, rtOff, rows);
        KernelArgs.length(op, "xe", xe, xeOff, KernelArgs.size(op, rows, dim));
        inRange(op, "rowToken", rowToken, rtOff, (int) rows, tokens);
    }

    /** Checks for {@link #gatherBackward}, slotRow entries in [0, T * k) included. */
    static void checkGatherBackward(float[] dXe, int dxOff, int[] slotRow, int srOff, float[] dh, int dhOff,
                                    int tokens, int dim, int k) {
        String op = "gatherBackward";
        long rows = dispatchDims(op, tokens, dim, k);
        KernelArgs.length(op, "dXe", dXe, dxOff, KernelArgs.size(op, rows, dim));
        KernelArgs.length(op, "slotRow", slotRow, srOff, rows);
        KernelArgs.length(op, "dh", dh, dhOff, KernelArgs.size(op, tokens, dim));
        inRange(op, "slotRow", slotRow, srOff, (int) rows, (int) rows);
    }

    /** Checks for {@link #combine}, slotRow entries in [0, T * k) included. */
    static void checkCombine(float[] ye, int yeOff, int[] slotRow, int srOff, float[] gates, int gOff,
                             float[] y, int yOff, int tokens, int dim, int k) {
        String op = "combine";
        long rows = dispatchDims(op, tokens, dim, k);
        KernelArgs.length(op, "ye", ye, yeOff, KernelArgs.size(op, rows, dim));
        KernelArgs.length(op, "slotRow", slotRow, srOff, rows);
        KernelArgs.length(op, "gates", gates, gOff, rows);
        KernelArgs.length(op, "y", y, yOff, KernelArgs.size(op, tokens, dim));
        inRange(op, "slotRow", slotRow, srOff, (int) rows, (int) rows);
    }

    /** Checks for {@link #combineBackward}: slotRow and rowToken must form a dispatch plan. */
    static void checkCombineBackward(float[] dy, int dyOff, float[] ye, int yeOff, float[] gates, int gOff,
                                     int[] slotRow, int srOff, int[] rowToken, int rtOff,
                                     float[] dYe, int dYeOff, float[] dGate, int dgOff, int tokens, int dim, int k) {
        String op = "combineBackward";
        long rows = dispatchDims(op, tokens, dim, k);
        long rd = KernelArgs.size(op, rows, dim);
        KernelArgs.length(op, "dy", dy, dyOff, KernelArgs.size(op, tokens, dim));
        KernelArgs.length(op, "ye", ye, yeOff, rd);
        KernelArgs.length(op, "gates", gates, gOff, rows);
        KernelArgs.length(op, "slotRow", slotRow, srOff, rows);
        KernelArgs.length(op, "rowToken", rowToken, rtOff, rows);
        KernelArgs.length(op, "dYe", dYe, dYeOff, rd);
        KernelArgs.length(op, "dGate", dGate, dgOff, rows);
        plan(op, slotRow, srOff, rowToken, rtOff, tokens, k);
    }

    private static long rowsTimesF(String op, int rows, int f) {
        KernelArgs.positive(op, "rows", rows);
        KernelArgs.positive(op, "f", f);
        return KernelArgs.size(op, rows, f);
    }

    private static void routingDims(String op, int tokens, int experts, int k) {
        KernelArgs.positive(op, "tokens", tokens);
        KernelArgs.positive(op, "experts", experts);
        KernelArgs.positive(op, "k", k);
        KernelArgs.require(k <= experts, op, "k must be at most experts, got k = " + k + " > experts = " + experts);
    }

    private static long dispatchDims(String op, int tokens, int dim, int k) {
        KernelArgs.positive(op, "tokens", tokens);
        KernelArgs.positive(op, "dim", dim);
        KernelArgs.positive(op, "k", k);
        return KernelArgs.size(op, tokens, k);
    }

    /** Every {@code a[off + i]}, i < n, in [0, bound). */
    private static void inRange(String op, String name, int[] a, int off, int n, int bound) {
        for (int i = 0; i < n; i++) {
            int v = a[off + i];
            if (v < 0 || v >= bound) {
                throw new IllegalArgumentException(op + ": " + name + "[" + i + "] = " + v
                        + " out of range [0, " + bound + ")");
            }
        }
    }

    /**
     * slotRow must map the T * k (token, slot) pairs one-to-one onto the T * k rows and rowToken must be its
     * token inverse. Checked without scratch memory: rowToken[slotRow[t,s]] == t makes rows of different
     * tokens distinct, pairwise comparison of a token's k slots makes its own rows distinct, and an
     * injective map between sets of equal size is a bijection.
     */
    private static void plan(String op, int[] slotRow, int srOff, int[] rowToken, int rtOff, int tokens, int k) {
        int rows = tokens * k;
        inRange(op, "slotRow", slotRow, srOff, rows, rows);
        inRange(op, "rowToken", rowToken, rtOff, rows, tokens);
        for (int t = 0; t < tokens; t++) {
            for (int s = 0; s < k; s++) {
                int p = t * k + s;
                int row = slotRow[srOff + p];
                int owner = rowToken[rtOff + row];
                if (owner != t) {
                    throw new IllegalArgumentException(op + ": slotRow[" + p + "] = " + row + " but rowToken["
                            + row + "] = " + owner + ", expected " + t + " (not a dispatch plan)");
                }
                for (int q = 0; q < s; q++) {
                    if (slotRow[srOff + t * k + q] == row) {
                        throw new IllegalArgumentException(op + ": slotRow[" + (t * k + q) + "] and slotRow["
                                + p + "] are both " + row + " (not a dispatch plan)");
                    }
                }
            }
        }
    }
}
