package flexmoe.kernels.tornado;

import flexmoe.kernels.DispatchKernels;
import flexmoe.kernels.RouterKernels;
import flexmoe.kernels.SwiGluKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * TornadoVM launchers for the MoE bodies (SwiGLU, FlexOlmo router, dropless dispatch), split into work
 * items as {@code JvmMoeOps} splits them: one per row, per token, per dR cell, per expert. The dispatch plan
 * and the z-loss are single sequential bodies (the plan's token scan fixes the in-expert row order): their
 * launchers have no {@code @Parallel} loop and run as one work item.
 */
public final class MoeLaunchers {

    private MoeLaunchers() {
    }

    /** SwiGLU forward, split layout, one row per work item. */
    public static void swiglu(float[] a, int aOff, float[] u, int uOff, float[] h, int hOff, int rows, int f) {
        for (@Parallel int r = 0; r < rows; r++) {
            SwiGluKernels.forwardRow(r, a, aOff, u, uOff, h, hOff, f);
        }
    }

    /** SwiGLU backward, split layout, one row per work item. */
    public static void swigluBackward(float[] a, int aOff, float[] u, int uOff, float[] dh, int dhOff, float[] da,
                                      int daOff, float[] du, int duOff, int rows, int f) {
        for (@Parallel int r = 0; r < rows; r++) {
            SwiGluKernels.backwardRow(r, a, aOff, u, uOff, dh, dhOff, da, daOff, du, duOff, f);
        }
    }

    /** SwiGLU forward, fused layout (gate | up), one row per work item. */
    public static void swigluFused(float[] gu, int guOff, float[] h, int hOff, int rows, int f) {
        for (@Parallel int r = 0; r < rows; r++) {
            SwiGluKernels.fusedForwardRow(r, gu, guOff, h, hOff, f);
        }
    }

    /** SwiGLU backward, fused layout, one row per work item. */
    public static void swigluFusedBackward(float[] gu, int guOff, float[] dh, int dhOff, float[] dGu, int dGuOff,
                                           int rows, int f) {
        for (@Parallel int r = 0; r < rows; r++) {
            SwiGluKernels.fusedBackwardRow(r, gu, guOff, dh, dhOff, dGu, dGuOff, f);
        }
    }

    /** Router forward (logits, top-k, softmax, lse), one token per work item. */
    public static void router(float[] h, int hOff, float[] r, int rOff, float[] b, int bOff, float[] probs,
                              int pOff, float[] lse, int lseOff, int[] ids, int idsOff, float[] gates, int gOff,
                              int tokens, int dim, int experts, int k) {
        for (@Parallel int t = 0; t < tokens; t++) {
            RouterKernels.forwardToken(t, h, hOff, r, rOff, b, bOff, probs, pOff, lse, lseOff, ids, idsOff, gates,
                    gOff, dim, experts, k);
        }
    }

    /** Router z-loss: one work item. */
    public static void routerZLoss(float[] lse, int lseOff, int tokens, float zWeight, float[] out, int outOff) {
        RouterKernels.zLoss(lse, lseOff, tokens, zWeight, out, outOff);
    }

    /** Router logit gradient, one token per work item. */
    public static void routerLogitsBackward(float[] probs, int pOff, float[] lse, int lseOff, int[] ids, int idsOff,
                                            float[] dGate, int dgOff, float zWeight, float[] dLogits, int dlOff,
                                            int tokens, int experts, int k) {
        for (@Parallel int t = 0; t < tokens; t++) {
            RouterKernels.logitsBackwardToken(t, probs, pOff, lse, lseOff, ids, idsOff, dGate, dgOff, zWeight,
                    dLogits, dlOff, tokens, experts, k);
        }
    }

    /** Router residual-stream gradient (+=), one token per work item. */
    public static void routerInputGrad(float[] dLogits, int dlOff, float[] r, int rOff, float[] dH, int dHOff,
                                       int tokens, int dim, int experts) {
        for (@Parallel int t = 0; t < tokens; t++) {
            RouterKernels.inputGradToken(t, dLogits, dlOff, r, rOff, dH, dHOff, dim, experts);
        }
    }

    /** Router-embedding gradient (+=), one dR cell (expert, column) per work item. */
    public static void routerWeightGrad(float[] dLogits, int dlOff, float[] h, int hOff, float[] dR, int dROff,
                                        int tokens, int dim, int experts) {
        for (@Parallel int i = 0; i < experts; i++) {
            for (@Parallel int d = 0; d < dim; d++) {
                RouterKernels.weightGradCell(i, d, dLogits, dlOff, h, hOff, dR, dROff, tokens, dim, experts);
            }
        }
    }

    /** Router bias gradient (+=), one expert per work item. */
    public static void routerBiasGrad(float[] dLogits, int dlOff, float[] b, int bOff, float[] db, int dbOff,
                                      int tokens, int experts) {
        for (@Parallel int i = 0; i < experts; i++) {
            RouterKernels.biasGrad(i, dLogits, dlOff, b, bOff, db, dbOff, tokens, experts);
        }
    }

    /** Dispatch plan: one work item (a sequential scan over the tokens). */
    public static void plan(int[] ids, int idsOff, int tokens, int experts, int k, int[] counts, int cOff,
                            int[] offsets, int oOff, int[] slotRow, int srOff, int[] rowToken, int rtOff) {
        DispatchKernels.plan(ids, idsOff, tokens, experts, k, counts, cOff, offsets, oOff, slotRow, srOff, rowToken,
                rtOff);
    }

    /** Gather into the expert buffer, one of its T * k rows per work item. */
    public static void gather(float[] h, int hOff, int[] rowToken, int rtOff, float[] xe, int xeOff, int rows,
                              int dim) {
        for (@Parallel int row = 0; row < rows; row++) {
            DispatchKernels.gatherRow(row, h, hOff, rowToken, rtOff, xe, xeOff, dim);
        }
    }

    /** Gather backward (+=), one token per work item. */
    public static void gatherBackward(float[] dXe, int dxOff, int[] slotRow, int srOff, float[] dh, int dhOff,
                                      int tokens, int dim, int k) {
        for (@Parallel int t = 0; t < tokens; t++) {
            DispatchKernels.gatherBackwardToken(t, dXe, dxOff, slotRow, srOff, dh, dhOff, dim, k);
        }
    }

    /** Combine the expert outputs, one token per work item. */
    public static void combine(float[] ye, int yeOff, int[] slotRow, int srOff, float[] gates, int gOff, float[] y,
                               int yOff, int tokens, int dim, int k) {
        for (@Parallel int t = 0; t < tokens; t++) {
            DispatchKernels.combineToken(t, ye, yeOff, slotRow, srOff, gates, gOff, y, yOff, dim, k);
        }
    }

    /** Combine backward to the expert outputs, one expert-buffer row per work item. */
    public static void combineBackward(float[] dy, int dyOff, float[] gates, int gOff, int[] slotRow, int srOff,
                                       int[] rowToken, int rtOff, float[] dYe, int dYeOff, int rows, int dim, int k) {
        for (@Parallel int row = 0; row < rows; row++) {
            DispatchKernels.combineBackwardRow(row, dy, dyOff, gates, gOff, slotRow, srOff, rowToken, rtOff, dYe,
                    dYeOff, dim, k);
        }
    }

    /** Combine backward to the gates, one token per work item. */
    public static void combineGateGrad(float[] dy, int dyOff, float[] ye, int yeOff, int[] slotRow, int srOff,
                                       float[] dGate, int dgOff, int tokens, int dim, int k) {
        for (@Parallel int t = 0; t < tokens; t++) {
            DispatchKernels.combineGateGradToken(t, dy, dyOff, ye, yeOff, slotRow, srOff, dGate, dgOff, dim, k);
        }
    }

    /*
     * Shapes: odd sizes, every array at a non-zero offset of its own. Inputs a real step derives from another
     * body (probs, lse, ids, dLogits, the plan) are derived here by the plain bodies.
     *
     * Tolerances (absolute), as for the transformer group: copies and integer results exact (0); otherwise a
     * few float ulps per operation from fma contraction and the device's double exp/log rounded to float,
     * with a wide margin, far below what a wrong index or a skipped term gives.
     */
    private static final int ROWS = 37, F = 23;
    private static final int T = 29, D = 19, E = 6, K = 3;
    private static final float Z_WEIGHT = 0.01f;
    /** Dispatch: 5 experts, top-2, and no token routed to expert 2 (an empty block in the plan). */
    private static final int DT = 23, DE = 5, DK = 2, EMPTY_EXPERT = 2;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        // Gate pre-activations up to +-12, with -100 and +100 planted: exp(-x) overflows to +inf for x < -88
        // and the sigmoid must come out as exactly 0 (silu = -0, no NaN) on the device as in Java. Values reach
        // ~24 (silu(12) * 2), so a few ulps are ~1e-5.
        cases.add(DeviceCase.of("swiglu.forwardRow", 1e-5, in -> TaskPackage.createPackage("swiglu",
                MoeLaunchers::swiglu, gates(in, 2 + ROWS * F), 2, in.floats(3 + ROWS * F, 2), 3,
                in.floats(1 + ROWS * F), 1, ROWS, F)));
        cases.add(DeviceCase.of("swiglu.backwardRow", 1e-5, in -> TaskPackage.createPackage("swigluBackward",
                MoeLaunchers::swigluBackward, gates(in, 2 + ROWS * F), 2, in.floats(3 + ROWS * F, 2), 3,
                in.floats(4 + ROWS * F), 4, in.floats(1 + ROWS * F), 1, in.floats(5 + ROWS * F), 5, ROWS, F)));
        cases.add(DeviceCase.of("swiglu.fusedForwardRow", 1e-5, in -> TaskPackage.createPackage("swigluFused",
                MoeLaunchers::swigluFused, gateUp(in, 2), 2, in.floats(1 + ROWS * F), 1, ROWS, F)));
        cases.add(DeviceCase.of("swiglu.fusedBackwardRow", 1e-5, in -> TaskPackage.createPackage(
                "swigluFusedBackward", MoeLaunchers::swigluFusedBackward, gateUp(in, 2), 2,
                in.floats(4 + ROWS * F), 4, in.floats(1 + 2 * ROWS * F), 1, ROWS, F)));

        cases.addAll(routerCases());
        cases.addAll(dispatchCases());
        return cases;
    }

    /** Uniform in [-12, 12) with -100 and 100 planted (sigmoid saturates to exactly 0 and 1). */
    private static float[] gates(DeviceCase.Inputs in, int n) {
        float[] a = in.floats(n, 12);
        a[n / 3] = -100f;
        a[n / 2] = 100f;
        return a;
    }

    /** Fused [ROWS, 2F] at off: gate columns as {@link #gates}, up columns in [-2, 2) (as u in the split cases). */
    private static float[] gateUp(DeviceCase.Inputs in, int off) {
        float[] gu = in.floats(off + 2 * ROWS * F, 2);
        float[] gate = gates(in, ROWS * F);
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(gate, r * F, gu, off + r * 2 * F, F);
        }
        return gu;
    }

    /*
     * Router: E = 6 experts, k = 3 < E. Ties: R row 4 is a copy of row 2 and both biases are >= 0 (so
     * min(b, 0) = 0), so experts 2 and 4 tie on every token; token 5 has h = 0, so its logits are just
     * min(b_i, 0): experts 0, 2, 3, 4 tie at 0 and the top 3 must be 0, 2, 3. The tied dot products are the
     * same code on the same data, so they tie on the device too. b[0] is -5 and must never be read; b[3] = 0
     * takes the 0.5 subgradient, b[2] > 0 the 0, b[1], b[5] < 0 the 1.
     */
    private static final int H_OFF = 1, R_OFF = 2, B_OFF = 3, P_OFF = 4, LSE_OFF = 5, IDS_OFF = 6, G_OFF = 7,
            DG_OFF = 2, DL_OFF = 3;

    private static List<DeviceCase> routerCases() {
        List<DeviceCase> cases = new ArrayList<>();
        // Logits are 19-term dot products (~1); probs <= 1, lse ~ 2; ids must match exactly, which a
        // 1-ulp logit difference could break only on a near-tie (there is none besides the exact ties).
        cases.add(DeviceCase.of("router.forwardToken", 1e-6, in -> {
            RouterInputs r = RouterInputs.of(in);
            return TaskPackage.createPackage("router", MoeLaunchers::router, r.h, H_OFF, r.r, R_OFF, r.b, B_OFF,
                    in.floats(P_OFF + T * E), P_OFF, in.floats(LSE_OFF + T), LSE_OFF, in.ints(IDS_OFF + T * K, E),
                    IDS_OFF, in.floats(G_OFF + T * K), G_OFF, T, D, E, K);
        }));
        // Sum of 29 squares of lse ~ 2: ~100 before scaling; a few ulps of that times zWeight / T.
        cases.add(DeviceCase.of("router.zLoss", 1e-6, in -> {
            RouterState s = RouterState.forward(in);
            return TaskPackage.createPackage("routerZLoss", MoeLaunchers::routerZLoss, s.lse, LSE_OFF, T, Z_WEIGHT,
                    in.floats(3), 2);
        }));
        cases.add(DeviceCase.of("router.logitsBackwardToken", 1e-6, in -> {
            RouterState s = RouterState.forward(in);
            return TaskPackage.createPackage("routerLogitsBackward", MoeLaunchers::routerLogitsBackward, s.probs,
                    P_OFF, s.lse, LSE_OFF, s.ids, IDS_OFF, s.dGate, DG_OFF, Z_WEIGHT, in.floats(DL_OFF + T * E),
                    DL_OFF, T, E, K);
        }));
        // dH += 6-term sums, dR += 29-term sums, db += 29-term sums of dLogits (~0.3): values O(1).
        cases.add(DeviceCase.of("router.inputGradToken", 1e-5, in -> {
            RouterState s = RouterState.forward(in);
            return TaskPackage.createPackage("routerInputGrad", MoeLaunchers::routerInputGrad, s.dLogits, DL_OFF,
                    s.inputs.r, R_OFF, in.floats(1 + T * D), 1, T, D, E);
        }));
        cases.add(DeviceCase.of("router.weightGradCell", 1e-5, in -> {
            RouterState s = RouterState.forward(in);
            return TaskPackage.createPackage("routerWeightGrad", MoeLaunchers::routerWeightGrad, s.dLogits, DL_OFF,
                    s.inputs.h, H_OFF, in.floats(2 + E * D), 2, T, D, E);
        }));
        cases.add(DeviceCase.of("router.biasGrad", 1e-5, in -> {
            RouterState s = RouterState.forward(in);
            return TaskPackage.createPackage("routerBiasGrad", MoeLaunchers::routerBiasGrad, s.dLogits, DL_OFF,
                    s.inputs.b, B_OFF, in.floats(1 + E), 1, T, E);
        }));
        return cases;
    }

    /** Router parameters and inputs with the ties described above. */
    private record RouterInputs(float[] h, float[] r, float[] b) {

        static RouterInputs of(DeviceCase.Inputs in) {
            float[] h = in.floats(H_OFF + T * D);
            float[] r = in.floats(R_OFF + E * D);
            System.arraycopy(r, R_OFF + 2 * D, r, R_OFF + 4 * D, D);
            Arrays.fill(h, H_OFF + 5 * D, H_OFF + 6 * D, 0f);
            float[] b = new float[B_OFF + E];
            System.arraycopy(new float[] {-5f, -0.3f, 0.2f, 0f, 0.4f, -0.1f}, 0, b, B_OFF, E);
            return new RouterInputs(h, r, b);
        }
    }

    /** A router forward and dLogits made by the plain bodies, for the backward cases. */
    private record RouterState(RouterInputs inputs, float[] probs, float[] lse, int[] ids, float[] dGate,
                               float[] dLogits) {

        static RouterState forward(DeviceCase.Inputs in) {
            RouterInputs r = RouterInputs.of(in);
            float[] probs = new float[P_OFF + T * E];
            float[] lse = new float[LSE_OFF + T];
            int[] ids = new int[IDS_OFF + T * K];
            router(r.h, H_OFF, r.r, R_OFF, r.b, B_OFF, probs, P_OFF, lse, LSE_OFF, ids, IDS_OFF,
                    new float[T * K], 0, T, D, E, K);
            float[] dGate = in.floats(DG_OFF + T * K);
            float[] dLogits = new float[DL_OFF + T * E];
            routerLogitsBackward(probs, P_OFF, lse, LSE_OFF, ids, IDS_OFF, dGate, DG_OFF, Z_WEIGHT, dLogits, DL_OFF,
                    T, E, K);
            return new RouterState(r, probs, lse, ids, dGate, dLogits);
        }
    }

    /*
     * Dispatch: T = 23 tokens, top-2 of 5 experts, distinct experts per token, expert 2 never chosen (its
     * block in the expert buffer is empty: offsets[2] == offsets[3]). Gathers and the plan are exact; the
     * combines sum k = 2 products (+ one dot product of D = 19 terms for dGate).
     */
    private static final int ID_OFF = 3, C_OFF = 1, O_OFF = 2, SR_OFF = 4, RT_OFF = 5;
    private static final int DR = DT * DK;

    private static List<DeviceCase> dispatchCases() {
        List<DeviceCase> cases = new ArrayList<>();
        cases.add(DeviceCase.of("dispatch.plan", 0, in -> TaskPackage.createPackage("plan", MoeLaunchers::plan,
                dispatchIds(in), ID_OFF, DT, DE, DK, in.ints(C_OFF + DE, 7), C_OFF, in.ints(O_OFF + DE + 1, 7), O_OFF,
                in.ints(SR_OFF + DR, 7), SR_OFF, in.ints(RT_OFF + DR, 7), RT_OFF)));
        cases.add(DeviceCase.of("dispatch.gatherRow", 0, in -> {
            Plan p = Plan.of(in);
            return TaskPackage.createPackage("gather", MoeLaunchers::gather, in.floats(1 + DT * D), 1, p.rowToken,
                    RT_OFF, in.floats(2 + DR * D), 2, DR, D);
        }));
        // dh += the token's 2 rows: two float additions per element, in slot order on both sides: exact.
        cases.add(DeviceCase.of("dispatch.gatherBackwardToken", 0, in -> {
            Plan p = Plan.of(in);
            return TaskPackage.createPackage("gatherBackward", MoeLaunchers::gatherBackward, in.floats(2 + DR * D),
                    2, p.slotRow, SR_OFF, in.floats(1 + DT * D), 1, DT, D, DK);
        }));
        // y = g0 * ye0 + g1 * ye1: the second term may contract into an fma. |y| < 2.
        cases.add(DeviceCase.of("dispatch.combineToken", 1e-6, in -> {
            Plan p = Plan.of(in);
            return TaskPackage.createPackage("combine", MoeLaunchers::combine, in.floats(2 + DR * D), 2, p.slotRow,
                    SR_OFF, in.floats(3 + DT * DK), 3, in.floats(1 + DT * D), 1, DT, D, DK);
        }));
        // One product per element, correctly rounded on both sides: exact.
        cases.add(DeviceCase.of("dispatch.combineBackwardRow", 0, in -> {
            Plan p = Plan.of(in);
            return TaskPackage.createPackage("combineBackward", MoeLaunchers::combineBackward,
                    in.floats(1 + DT * D), 1, in.floats(3 + DT * DK), 3, p.slotRow, SR_OFF, p.rowToken, RT_OFF,
                    in.floats(2 + DR * D), 2, DR, D, DK);
        }));
        // A 19-term dot product of O(1) values.
        cases.add(DeviceCase.of("dispatch.combineGateGradToken", 1e-5, in -> {
            Plan p = Plan.of(in);
            return TaskPackage.createPackage("combineGateGrad", MoeLaunchers::combineGateGrad, in.floats(1 + DT * D),
                    1, in.floats(2 + DR * D), 2, p.slotRow, SR_OFF, in.floats(3 + DT * DK), 3, DT, D, DK);
        }));
        return cases;
    }

    /** ids [DT, 2] at ID_OFF: two distinct experts per token, never EMPTY_EXPERT. */
    private static int[] dispatchIds(DeviceCase.Inputs in) {
        int candidates = DE - 1;
        int[] first = in.ints(DT, candidates);
        int[] step = in.ints(DT, candidates - 1);
        int[] ids = new int[ID_OFF + DT * DK];
        for (int t = 0; t < DT; t++) {
            ids[ID_OFF + t * DK] = skipEmpty(first[t]);
            ids[ID_OFF + t * DK + 1] = skipEmpty((first[t] + 1 + step[t]) % candidates);
        }
        return ids;
    }

    private static int skipEmpty(int candidate) {
        return candidate >= EMPTY_EXPERT ? candidate + 1 : candidate;
    }

    /** A dispatch plan made by the plain body, for the gather and combine cases. */
    private record Plan(int[] slotRow, int[] rowToken) {

        static Plan of(DeviceCase.Inputs in) {
            int[] slotRow = new int[SR_OFF + DR];
            int[] rowToken = new int[RT_OFF + DR];
            plan(dispatchIds(in), ID_OFF, DT, DE, DK, new int[DE], 0, new int[DE + 1], 0, slotRow, SR_OFF, rowToken,
                    RT_OFF);
            return new Plan(slotRow, rowToken);
        }
    }
}
