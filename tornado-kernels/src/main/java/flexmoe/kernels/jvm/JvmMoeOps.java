package flexmoe.kernels.jvm;

import flexmoe.kernels.DispatchKernels;
import flexmoe.kernels.MoeOps;
import flexmoe.kernels.RouterKernels;
import flexmoe.kernels.SwiGluKernels;

/**
 * MoE operations on the JVM: the plain bodies, split across the worker threads over rows, tokens or
 * output cells; SwiGLU runs the Vector API version ({@link JvmElementwise}) unless the backend is the
 * reference. Every output element is produced inside one chunk by one body call, so the bits do not
 * depend on the thread count. Reductions over tokens (dR, db) are parallel over the output element with
 * the tokens looped in order inside; the dispatch plan and the z-loss are one sequential call each.
 * One loop is restructured for the cache ({@link #weightGradCells}), with the body's exact arithmetic.
 */
final class JvmMoeOps implements MoeOps {

    /**
     * Work (element operations) per chunk. These kernels are memory-bound and cheap per element, so
     * smaller chunks than the GEMM's still amortise the hand-off and keep both cores busy on small layers.
     */
    private static final long TARGET = 1 << 15;

    private final ParallelRunner runner;
    private final boolean vectorized;

    /** {@code vectorized}: SwiGLU through {@link JvmElementwise}; else the plain bodies (the reference). */
    JvmMoeOps(ParallelRunner runner, boolean vectorized) {
        this.runner = runner;
        this.vectorized = vectorized;
    }

    @Override
    public void swigluForward(float[] a, int aOff, float[] u, int uOff, float[] h, int hOff, int rows, int f) {
        MoeOps.checkSwigluForward(a, aOff, u, uOff, h, hOff, rows, f);
        runner.forRange(rows, ParallelRunner.grainFor(f, TARGET), (start, end) -> {
            for (int r = start; r < end; r++) {
                if (vectorized) {
                    JvmElementwise.swigluForwardRow(r, a, aOff, u, uOff, h, hOff, f);
                } else {
                    SwiGluKernels.forwardRow(r, a, aOff, u, uOff, h, hOff, f);
                }
            }
        });
    }

    @Override
    public void swigluBackward(float[] a, int aOff, float[] u, int uOff, float[] dh, int dhOff,
                               float[] da, int daOff, float[] du, int duOff, int rows, int f) {
        MoeOps.checkSwigluBackward(a, aOff, u, uOff, dh, dhOff, da, daOff, du, duOff, rows, f);
        runner.forRange(rows, ParallelRunner.grainFor(2L * f, TARGET), (start, end) -> {
            for (int r = start; r < end; r++) {
                if (vectorized) {
                    JvmElementwise.swigluBackwardRow(r, a, aOff, u, uOff, dh, dhOff, da, daOff, du, duOff, f);
                } else {
                    SwiGluKernels.backwardRow(r, a, aOff, u, uOff, dh, dhOff, da, daOff, du, duOff, f);
                }
            }
        });
    }

    @Override
    public void swigluFusedForward(float[] gu, int guOff, float[] h, int hOff, int rows, int f) {
        MoeOps.checkSwigluFusedForward(gu, guOff, h, hOff, rows, f);
        runner.forRange(rows, ParallelRunner.grainFor(f, TARGET), (start, end) -> {
            for (int r = start; r < end; r++) {
                if (vectorized) {
                    JvmElementwise.swigluFusedForwardRow(r, gu, guOff, h, hOff, f);
                } else {
                    SwiGluKernels.fusedForwardRow(r, gu, guOff, h, hOff, f);
                }
            }
        });
    }

    @Override
    public void swigluFusedBackward(float[] gu, int guOff, float[] dh, int dhOff, float[] dGu, int dGuOff,
                                    int rows, int f) {
        MoeOps.checkSwigluFusedBackward(gu, guOff, dh, dhOff, dGu, dGuOff, rows, f);
        runner.forRange(rows, ParallelRunner.grainFor(2L * f, TARGET), (start, end) -> {
            for (int r = start; r < end; r++) {
                if (vectorized) {
                    JvmElementwise.swigluFusedBackwardRow(r, gu, guOff, dh, dhOff, dGu, dGuOff, f);
                } else {
                    SwiGluKernels.fusedBackwardRow(r, gu, guOff, dh, dhOff, dGu, dGuOff, f);
                }
            }
        });
    }

    @Override
    public void routerForward(float[] h, int hOff, float[] r, int rOff, float[] b, int bOff,
                              float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                              float[] gates, int gOff, int tokens, int dim, int experts, int k) {
        MoeOps.checkRouterForward(h, hOff, r, rOff, b, bOff, probs, pOff, lse, lseOff, ids, idsOff, gates, gOff,
                tokens, dim, experts, k);
        runner.forRange(tokens, ParallelRunner.grainFor((long) experts * dim, TARGET), (start, end) -> {
            for (int t = start; t < end; t++) {
                RouterKernels.forwardToken(t, h, hOff, r, rOff, b, bOff, probs, pOff, lse, lseOff, ids, idsOff,
                        gates, gOff, dim, experts, k);
            }
        });
    }

    @Override
    public float routerZLoss(float[] lse, int lseOff, int tokens, float zWeight) {
        MoeOps.checkRouterZLoss(lse, lseOff, tokens);
        float[] out = new float[1];
        RouterKernels.zLoss(lse, lseOff, tokens, zWeight, out, 0);
        return out[0];
    }

    @Override
    public void routerLogitsBackward(float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                                     float[] dGate, int dgOff, float zWeight, float[] dLogits, int dlOff,
                                     int tokens, int experts, int k) {
        MoeOps.checkRouterLogitsBackward(probs, pOff, lse, lseOff, ids, idsOff, dGate, dgOff, dLogits, dlOff,
                tokens, experts, k);
        runner.forRange(tokens, ParallelRunner.grainFor((long) experts * k, TARGET), (start, end) -> {
            for (int t = start; t < end; t++) {
                RouterKernels.logitsBackwardToken(t, probs, pOff, lse, lseOff, ids, idsOff, dGate, dgOff, zWeight,
                        dLogits, dlOff, tokens, experts, k);
            }
        });
    }

    @Override
    public void routerLinearBackward(float[] dLogits, int dlOff, float[] h, int hOff, float[] r, int rOff,
                                     float[] b, int bOff, float[] dH, int dHOff, float[] dR, int dROff,
                                     float[] db, int dbOff, int tokens, int dim, int experts) {
        MoeOps.checkRouterLinearBackward(dLogits, dlOff, h, hOff, r, rOff, b, bOff, dH, dHOff, dR, dROff,
                db, dbOff, tokens, dim, experts);
        runner.forRange(tokens, ParallelRunner.grainFor((long) experts * dim, TARGET), (start, end) -> {
            for (int t = start; t < end; t++) {
                RouterKernels.inputGradToken(t, dLogits, dlOff, r, rOff, dH, dHOff, dim, experts);
            }
        });
        runner.forRange(experts * dim, ParallelRunner.grainFor(tokens, 1 << 20), (start, end) ->
                weightGradCells(start, end, dLogits, dlOff, h, hOff, dR, dROff, tokens, dim, experts));
        for (int i = 0; i < experts; i++) {
            RouterKernels.biasGrad(i, dLogits, dlOff, b, bOff, db, dbOff, tokens, experts);
        }
    }

    /**
     * {@link RouterKernels#weightGradCell} for the cells {@code [start, end)} of dR (flat index i * D + d),
     * with the token loop moved outside so h is read row by row instead of down a column (the body's
     * column walk touches one cache line per token per cell; about 10x slower here). Each cell still sums
     * its tokens in order from 0f and adds once, the body's exact arithmetic, so the bits are the body's
     * (RouterTest checks this).
     */
    static void weightGradCells(int start, int end, float[] dLogits, int dlOff, float[] h, int hOff,
                                float[] dR, int dROff, int tokens, int dim, int experts) {
        float[] acc = new float[end - start];
        int i0 = start / dim;
        int d0 = start % dim;
        for (int t = 0; t < tokens; t++) {
            int dl = dlOff + t * experts;
            int hr = hOff + t * dim;
            int i = i0;
            int d = d0;
            float g = dLogits[dl + i];
            for (int c = 0; c < acc.length; c++) {
                acc[c] += g * h[hr + d];
                if (++d == dim && c + 1 < acc.length) {
                    d = 0;
                    g = dLogits[dl + ++i];
                }
            }
        }
        for (int c = 0; c < acc.length; c++) {
            dR[dROff + start + c] += acc[c];
        }
    }

    @Override
    public void dispatchPlan(int[] ids, int idsOff, int tokens, int experts, int k, int[] counts, int cOff,
                             int[] offsets, int oOff, int[] slotRow, int srOff, int[] rowToken, int rtOff) {
        MoeOps.checkDispatchPlan(ids, idsOff, tokens, experts, k, counts, cOff, offsets, oOff, slotRow, srOff,
                rowToken, rtOff);
        DispatchKernels.plan(ids, idsOff, tokens, experts, k, counts, cOff, offsets, oOff, slotRow, srOff,
                rowToken, rtOff);
    }

    @Override
    public void gather(float[] h, int hOff, int[] rowToken, int rtOff, float[] xe, int xeOff, int tokens, int dim,
                       int k) {
        MoeOps.checkGather(h, hOff, rowToken, rtOff, xe, xeOff, tokens, dim, k);
        runner.forRange(tokens * k, ParallelRunner.grainFor(dim, TARGET), (start, end) -> {
            for (int row = start; row < end; row++) {
                DispatchKernels.gatherRow(row, h, hOff, rowToken, rtOff, xe, xeOff, dim);
            }
        });
    }

    @Override
    public void gatherBackward(float[] dXe, int dxOff, int[] slotRow, int srOff, float[] dh, int dhOff,
                               int tokens, int dim, int k) {
        MoeOps.checkGatherBackward(dXe, dxOff, slotRow, srOff, dh, dhOff, tokens, dim, k);
        runner.forRange(tokens, ParallelRunner.grainFor((long) k * dim, TARGET), (start, end) -> {
            for (int t = start; t < end; t++) {
                DispatchKernels.gatherBackwardToken(t, dXe, dxOff, slotRow, srOff, dh, dhOff, dim, k);
            }
        });
    }

    @Override
    public void combine(float[] ye, int yeOff, int[] slotRow, int srOff, float[] gates, int gOff, float[] y,
                        int yOff, int tokens, int dim, int k) {
        MoeOps.checkCombine(ye, yeOff, slotRow, srOff, gates, gOff, y, yOff, tokens, dim, k);
        runner.forRange(tokens, ParallelRunner.grainFor((long) k * dim, TARGET), (start, end) -> {
            for (int t = start; t < end; t++) {
                DispatchKernels.combineToken(t, ye, yeOff, slotRow, srOff, gates, gOff, y, yOff, dim, k);
            }
        });
    }

    @Override
    public void combineBackward(float[] dy, int dyOff, float[] ye, int yeOff, float[] gates, int gOff,
                                int[] slotRow, int srOff, int[] rowToken, int rtOff,
                                float[] dYe, int dYeOff, float[] dGate, int dgOff, int tokens, int dim, int k) {
        MoeOps.checkCombineBackward(dy, dyOff, ye, yeOff, gates, gOff, slotRow, srOff, rowToken, rtOff,
                dYe, dYeOff, dGate, dgOff, tokens, dim, k);
        runner.forRange(tokens * k, ParallelRunner.grainFor((long) dim + k, TARGET), (start, end) -> {
            for (int row = start; row < end; row++) {
                DispatchKernels.combineBackwardRow(row, dy, dyOff, gates, gOff, slotRow, srOff, rowToken, rtOff,
                        dYe, dYeOff, dim, k);
            }
        });
        runner.forRange(tokens, ParallelRunner.grainFor((long) k * dim, TARGET), (start, end) -> {
            for (int t = start; t < end; t++) {
                DispatchKernels.combineGateGradToken(t, dy, dyOff, ye, yeOff, slotRow, srOff, dGate, dgOff, dim, k);
            }
        });
    }
}
