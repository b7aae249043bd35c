package flexmoe.kernels;

/**
 * Dropless expert dispatch bodies: every (token, slot) pair gets one row of a concatenated expert buffer,
 * so the buffer always has exactly {@code T * k} rows whatever the routing (static shapes for TornadoVM).
 *
 * <p>Layout: expert e's rows are {@code [offsets[e], offsets[e+1])}, ordered by token index. Because tokens
 * of one example are contiguous in token order, the rows of one example's tokens are contiguous inside each
 * expert's block: per-example routed-token segments (DP per-example clipping) are found from the example's
 * token range alone. {@link #plan} keeps this property; nothing else reorders rows.
 *
 * <p>Maps: {@code slotRow[t*k + s]} is the row of token t's slot s; {@code rowToken[row]} is the token a row
 * holds. The slot of a row is recovered, when needed, by searching the token's k slots (k is small).
 *
 * <p>Gradient convention: {@code dh} (the residual stream) ACCUMULATES (+=); dYe and dGate are per-op
 * intermediates and are OVERWRITTEN.
 *
 * <p>TornadoVM rules followed: no allocation, no {@code Math.fma}, every output element written.
 */
public final class DispatchKernels {

    private DispatchKernels() {
    }

    /**
     * The dispatch plan: one work item (a sequential scan over tokens, which fixes the in-expert order).
     * ids [T, k] (in [0, E)) -> counts [E], offsets [E + 1], slotRow [T * k], rowToken [T * k], all
     * OVERWRITTEN. {@code offsets[0] = 0}, {@code offsets[E] = T * k}. counts doubles as the per-expert
     * fill cursor in the second pass, so no scratch array is needed; it ends holding the counts.
     * Repeated ids within a token are allowed (the token then occupies several rows of that expert); the
     * router never produces them.
     */
    public static void plan(int[] ids, int idsOff, int tokens, int experts, int k, int[] counts, int cOff,
                            int[] offsets, int oOff, int[] slotRow, int srOff, int[] rowToken, int rtOff) {
        for (int e = 0; e < experts; e++) {
            counts[cOff + e] = 0;
        }
        int n = tokens * k;
        for (int p = 0; p < n; p++) {
            counts[cOff + ids[idsOff + p]] += 1;
        }
        int run = 0;
        for (int e = 0; e < experts; e++) {
            offsets[oOff + e] = run;
            run += counts[cOff + e];
            counts[cOff + e] = 0;
        }
        offsets[oOff + experts] = run;
        // Scanning (t, s) in order hands out each expert's rows in token order.
        for (int p = 0; p < n; p++) {
            int e = ids[idsOff + p];
            int row = offsets[oOff + e] + counts[cOff + e];
            counts[cOff + e] += 1;
            slotRow[srOff + p] = row;
            rowToken[rtOff + row] = p / k;
        }
    }

    /**
     * Gather, one row. h [T, D], rowToken [T * k] -> xe [T * k, D] (OVERWRITTEN):
     * {@code xe[row, :] = h[rowToken[row], :]}.
     */
    public static void gatherRow(int row, float[] h, int hOff, int[] rowToken, int rtOff, float[] xe, int xeOff,
                                 int dim) {
        int src = hOff + rowToken[rtOff + row] * dim;
        int dst = xeOff + row * dim;
        for (int d = 0; d < dim; d++) {
            xe[dst + d] = h[src + d];
        }
    }

    /**
     * Gather backward, one token. dXe [T * k, D], slotRow [T * k] -> dh [T, D] ACCUMULATED:
     * {@code dh[t, :] += dXe[slotRow[t,s], :]} for s = 0, 1, ..., k - 1 in that order.
     */
    public static void gatherBackwardToken(int t, float[] dXe, int dxOff, int[] slotRow, int srOff,
                                           float[] dh, int dhOff, int dim, int k) {
        int dst = dhOff + t * dim;
        for (int s = 0; s < k; s++) {
            int src = dxOff + slotRow[srOff + t * k + s] * dim;
            for (int d = 0; d < dim; d++) {
                dh[dst + d] += dXe[src + d];
            }
        }
    }

    /**
     * Combine, one token. ye [T * k, D], slotRow [T * k], gates [T, k] -> y [T, D] (OVERWRITTEN):
     * {@code y[t, :] = sum_s gates[t,s] * ye[slotRow[t,s], :]}, slots added in order 0, 1, ..., k - 1.
     * Overwritten, not accumulated: in the OLMo-2 post-norm block the mixture feeds the FFN norm, not the
     * residual directly.
     */
    public static void combineToken(int t, float[] ye, int yeOff, int[] slotRow, int srOff, float[] gates,
                                    int gOff, float[] y, int yOff, int dim, int k) {
        int dst = yOff + t * dim;
        float g0 = gates[gOff + t * k];
        int src0 = yeOff + slotRow[srOff + t * k] * dim;
        for (int d = 0; d < dim; d++) {
            y[dst + d] = g0 * ye[src0 + d];
        }
        for (int s = 1; s < k; s++) {
            float g = gates[gOff + t * k + s];
            int src = yeOff + slotRow[srOff + t * k + s] * dim;
            for (int d = 0; d < dim; d++) {
                y[dst + d] += g * ye[src + d];
            }
        }
    }

    /**
     * Combine backward to the expert outputs, one row. dy [T, D], gates [T, k], rowToken, slotRow ->
     * dYe [T * k, D] (OVERWRITTEN): {@code dYe[row, :] = gates[t,s] * dy[t, :]} with t = rowToken[row] and
     * s the slot of t whose slotRow is row. Parallel over rows so each row is written exactly once; a row
     * that no slot claims (impossible for a valid plan) is written as 0.
     */
    public static void combineBackwardRow(int row, float[] dy, int dyOff, float[] gates, int gOff,
                                          int[] slotRow, int srOff, int[] rowToken, int rtOff,
                                          float[] dYe, int dYeOff, int dim, int k) {
        int t = rowToken[rtOff + row];
        float g = 0f;
        for (int s = 0; s < k; s++) {
            if (slotRow[srOff + t * k + s] == row) {
                g = gates[gOff + t * k + s];
            }
        }
        int src = dyOff + t * dim;
        int dst = dYeOff + row * dim;
        for (int d = 0; d < dim; d++) {
            dYe[dst + d] = g * dy[src + d];
        }
    }

    /**
     * Combine backward to the gates, one token. dy [T, D], ye [T * k, D], slotRow -> dGate [T, k]
     * (OVERWRITTEN): {@code dGate[t,s] = dy[t, :] · ye[slotRow[t,s], :]}.
     */
    public static void combineGateGradToken(int t, float[] dy, int dyOff, float[] ye, int yeOff, int[] slotRow,
                                            int srOff, float[] dGate, int dgOff, int dim, int k) {
        int src = dyOff + t * dim;
        for (int s = 0; s < k; s++) {
            int rowStart = yeOff + slotRow[srOff + t * k + s] * dim;
            float sum = 0f;
            for (int d = 0; d < dim; d++) {
                sum += dy[src + d] * ye[rowStart + d];
            }
            dGate[dgOff + t * k + s] = sum;
        }
    }
}
