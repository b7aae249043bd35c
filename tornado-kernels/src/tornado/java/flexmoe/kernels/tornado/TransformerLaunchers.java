package flexmoe.kernels.tornado;

import flexmoe.kernels.AttentionKernels;
import flexmoe.kernels.EmbeddingKernels;
import flexmoe.kernels.ResidualKernels;
import flexmoe.kernels.RmsNormKernels;
import flexmoe.kernels.RopeKernels;
import flexmoe.kernels.SoftmaxKernels;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * TornadoVM launchers for the transformer bodies (embedding, RMSNorm, RoPE, attention, softmax, residual),
 * split into work items as {@code JvmTransformerOps} splits them: one per row, per (token, head), per
 * (sequence, head, query row), per column block of a token reduction, per element. Attention launches the
 * plain {@link AttentionKernels} bodies; the JVM runs a Vector API copy of them instead, which
 * {@code AttentionTest} compares with these bodies.
 */
public final class TransformerLaunchers {

    private TransformerLaunchers() {
    }

    /** {@code out[t, :] = table[ids[t], :]}. */
    public static void embedding(int[] ids, int idsOff, float[] table, int tableOff, float[] out, int outOff,
                                 int tokens, int dim) {
        for (@Parallel int t = 0; t < tokens; t++) {
            EmbeddingKernels.embeddingRow(t, ids, idsOff, table, tableOff, out, outOff, dim);
        }
    }

    /** {@code dTable[ids[t], :] += dOut[t, :]}, one work item per block of {@code width} columns. */
    public static void embeddingBackward(int[] ids, int idsOff, float[] dOut, int dOutOff, float[] dTable,
                                         int dTableOff, int tokens, int dim, int width, int blocks) {
        for (@Parallel int blk = 0; blk < blocks; blk++) {
            EmbeddingKernels.embeddingBackwardColumns(blk, ids, idsOff, dOut, dOutOff, dTable, dTableOff, tokens,
                    dim, width);
        }
    }

    /** RMSNorm forward, one row per work item. */
    public static void rmsnorm(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] rstd,
                               int rstdOff, int rows, int dim, float eps) {
        for (@Parallel int t = 0; t < rows; t++) {
            RmsNormKernels.rmsnormRow(t, x, xOff, w, wOff, y, yOff, rstd, rstdOff, dim, eps);
        }
    }

    /** RMSNorm input gradient, one row per work item. */
    public static void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] rstd, int rstdOff,
                                       float[] dy, int dyOff, float[] dx, int dxOff, int rows, int dim) {
        for (@Parallel int t = 0; t < rows; t++) {
            RmsNormKernels.rmsnormBackwardRow(t, x, xOff, w, wOff, rstd, rstdOff, dy, dyOff, dx, dxOff, dim);
        }
    }

    /** RMSNorm weight gradient, one work item per block of {@code width} columns. */
    public static void rmsnormWeightGrad(float[] x, int xOff, float[] rstd, int rstdOff, float[] dy, int dyOff,
                                         float[] dw, int dwOff, int rows, int dim, int width, int blocks) {
        for (@Parallel int blk = 0; blk < blocks; blk++) {
            RmsNormKernels.rmsnormWeightGradColumns(blk, x, xOff, rstd, rstdOff, dy, dyOff, dw, dwOff, rows, dim,
                    width);
        }
    }

    /** RoPE tables, one position per work item. */
    public static void ropeTables(float[] cos, float[] sin, int maxPos, int headDim, float theta) {
        for (@Parallel int p = 0; p < maxPos; p++) {
            RopeKernels.ropeTableRow(p, cos, sin, headDim, theta);
        }
    }

    /** RoPE forward, one (token, head) per work item. */
    public static void ropeForward(float[] x, int xOff, float[] y, int yOff, int[] pos, int posOff, float[] cos,
                                   float[] sin, int tokens, int heads, int headDim) {
        for (@Parallel int t = 0; t < tokens; t++) {
            for (@Parallel int h = 0; h < heads; h++) {
                RopeKernels.ropeForwardHead(t, h, x, xOff, y, yOff, pos, posOff, cos, sin, heads, headDim);
            }
        }
    }

    /** RoPE backward, one (token, head) per work item. */
    public static void ropeBackward(float[] dy, int dyOff, float[] dx, int dxOff, int[] pos, int posOff,
                                    float[] cos, float[] sin, int tokens, int heads, int headDim) {
        for (@Parallel int t = 0; t < tokens; t++) {
            for (@Parallel int h = 0; h < heads; h++) {
                RopeKernels.ropeBackwardHead(t, h, dy, dyOff, dx, dxOff, pos, posOff, cos, sin, heads, headDim);
            }
        }
    }

    /** Attention forward, one (sequence, head, query row) per work item. */
    public static void attention(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out,
                                 int outOff, float[] lse, int lseOff, int batch, int seqQ, int seqK, int heads,
                                 int headDim, int[] queryStart) {
        for (@Parallel int b = 0; b < batch; b++) {
            for (@Parallel int h = 0; h < heads; h++) {
                for (@Parallel int i = 0; i < seqQ; i++) {
                    AttentionKernels.attentionRow(b, h, i, q, qOff, k, kOff, v, vOff, out, outOff, lse, lseOff,
                            seqQ, seqK, heads, headDim, queryStart);
                }
            }
        }
    }

    /** The attention backward's row term {@code delta = rowsum(dOut * out)}, one row per work item. */
    public static void attentionDelta(float[] out, int outOff, float[] dOut, int dOutOff, float[] delta,
                                      int deltaOff, int batch, int seq, int heads, int headDim) {
        for (@Parallel int b = 0; b < batch; b++) {
            for (@Parallel int h = 0; h < heads; h++) {
                for (@Parallel int i = 0; i < seq; i++) {
                    AttentionKernels.attentionDeltaRow(b, h, i, out, outOff, dOut, dOutOff, delta, deltaOff, seq,
                            heads, headDim);
                }
            }
        }
    }

    /** Attention dq, one query row per work item. */
    public static void attentionBackwardQuery(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                                              float[] lse, int lseOff, float[] dOut, int dOutOff, float[] delta,
                                              int deltaOff, float[] dq, int dqOff, int batch, int seq, int heads,
                                              int headDim) {
        for (@Parallel int b = 0; b < batch; b++) {
            for (@Parallel int h = 0; h < heads; h++) {
                for (@Parallel int i = 0; i < seq; i++) {
                    AttentionKernels.attentionBackwardQueryRow(b, h, i, q, qOff, k, kOff, v, vOff, lse, lseOff,
                            dOut, dOutOff, delta, deltaOff, dq, dqOff, seq, heads, headDim);
                }
            }
        }
    }

    /** Attention dk and dv, one key row per work item (20 parameters: TornadoVM's largest task). */
    public static void attentionBackwardKey(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                                            float[] lse, int lseOff, float[] dOut, int dOutOff, float[] delta,
                                            int deltaOff, float[] dk, int dkOff, float[] dv, int dvOff, int batch,
                                            int seq, int heads, int headDim) {
        for (@Parallel int b = 0; b < batch; b++) {
            for (@Parallel int h = 0; h < heads; h++) {
                for (@Parallel int j = 0; j < seq; j++) {
                    AttentionKernels.attentionBackwardKeyRow(b, h, j, q, qOff, k, kOff, v, vOff, lse, lseOff,
                            dOut, dOutOff, delta, deltaOff, dk, dkOff, dv, dvOff, seq, heads, headDim);
                }
            }
        }
    }

    /** Row softmax, one row per work item. */
    public static void softmax(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (@Parallel int r = 0; r < rows; r++) {
            SoftmaxKernels.softmaxRow(r, x, xOff, y, yOff, cols);
        }
    }

    /** Row softmax backward, one row per work item. */
    public static void softmaxBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows,
                                       int cols) {
        for (@Parallel int r = 0; r < rows; r++) {
            SoftmaxKernels.softmaxBackwardRow(r, y, yOff, dy, dyOff, dx, dxOff, cols);
        }
    }

    /** {@code out = a + b}, one element per work item. */
    public static void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            ResidualKernels.add(i, a, aOff, b, bOff, out, outOff);
        }
    }

    /** {@code out = factor[0] * x}, one element per work item. */
    public static void scale(float[] x, int xOff, float[] factor, float[] out, int outOff, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            ResidualKernels.scale(i, x, xOff, factor, out, outOff);
        }
    }

    /*
     * Shapes: odd sizes (no multiple of a vector or work-group width), every array at a non-zero offset of its
     * own. Inputs that a real step derives from another body (rstd, lse, delta, RoPE tables) are derived the
     * same way here, by the plain bodies, so the device sees realistic values (an lse that does not belong to
     * its scores would make exp(s - lse) overflow).
     *
     * Tolerances (absolute; |values| are O(1) unless noted). Copies and gathers must be exact: 0. Everything
     * else may differ by rounding only: the OpenCL compiler contracts a * b + c into fma (one rounding instead
     * of two), and exp/log/pow come from the device's double-precision math library, rounded to float. That
     * is a few float ulps (6e-8 relative) per operation, growing with the length of a float sum; each
     * tolerance below is that estimate with a wide margin, and far below any real bug (a wrong index or a
     * skipped term shows up at O(0.1..1)).
     */
    private static final int T = 29, V = 11, D = 19;
    private static final int ROWS = 17, COLS = 45;
    private static final int R_TOKENS = 13, R_HEADS = 3, R_HEAD_DIM = 10, MAX_POS = 50;
    private static final float THETA = 500_000f;
    private static final int B = 2, S = 13, H = 3, HD = 7, AD = H * HD;
    private static final int N = 1001;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        cases.add(DeviceCase.of("embeddingRow", 0, in -> TaskPackage.createPackage("embedding",
                TransformerLaunchers::embedding, in.ints(2 + T, V), 2, in.floats(3 + V * D), 3,
                in.floats(5 + T * D), 5, T, D)));
        // T > V: ids repeat, so one dTable row receives several tokens (the race the column split avoids).
        // Width 1 (a work item per column, the GPU form) and 4 (19 = 4 * 4 + 3: a partial last block).
        // A sum of <= T float terms per element, in token order on both sides: no contraction possible, exact.
        for (int width : new int[] {1, 4}) {
            int blocks = (D + width - 1) / width;
            cases.add(DeviceCase.of("embeddingBackwardColumns.w" + width, 0, in -> TaskPackage.createPackage(
                    "embeddingBackward", TransformerLaunchers::embeddingBackward, in.ints(2 + T, V), 2,
                    in.floats(3 + T * D), 3, in.floats(5 + V * D), 5, T, D, width, blocks)));
        }

        // Sum of squares over 45 terms, one sqrt, one multiply per output: 1e-5.
        cases.add(DeviceCase.of("rmsnormRow", 1e-5, in -> TaskPackage.createPackage("rmsnorm",
                TransformerLaunchers::rmsnorm, in.floats(1 + ROWS * COLS), 1, in.floats(2 + COLS), 2,
                in.floats(3 + ROWS * COLS), 3, in.floats(4 + ROWS), 4, ROWS, COLS, 1e-5f)));
        // In place (y is x), as TransformerOps allows: one array passed as two kernel arguments.
        cases.add(DeviceCase.of("rmsnormRow.inPlace", 1e-5, in -> {
            float[] x = in.floats(3 + ROWS * COLS);
            return TaskPackage.createPackage("rmsnorm", TransformerLaunchers::rmsnorm, x, 3, in.floats(2 + COLS), 2,
                    x, 3, in.floats(4 + ROWS), 4, ROWS, COLS, 1e-5f);
        }));
        // rstd ~ 1.7 for uniform [-1, 1) inputs; the 45-term dot and dy * w - x * k may contract: 1e-5.
        cases.add(DeviceCase.of("rmsnormBackwardRow", 1e-5, in -> {
            float[] x = in.floats(1 + ROWS * COLS);
            float[] w = in.floats(2 + COLS);
            float[] rstd = rstd(x, 1, w, 2, 4);
            return TaskPackage.createPackage("rmsnormBackward", TransformerLaunchers::rmsnormBackward, x, 1, w, 2,
                    rstd, 4, in.floats(5 + ROWS * COLS), 5, in.floats(6 + ROWS * COLS), 6, ROWS, COLS);
        }));
        // 45 = 5 * 8 + 5: a partial last block. Each dw[c] adds 17 products dy * x * rstd, which may contract.
        for (int width : new int[] {1, 8}) {
            int blocks = (COLS + width - 1) / width;
            cases.add(DeviceCase.of("rmsnormWeightGradColumns.w" + width, 1e-5, in -> {
                float[] x = in.floats(1 + ROWS * COLS);
                float[] rstd = rstd(x, 1, in.floats(2 + COLS), 2, 4);
                return TaskPackage.createPackage("rmsnormWeightGrad", TransformerLaunchers::rmsnormWeightGrad, x, 1,
                        rstd, 4, in.floats(5 + ROWS * COLS), 5, in.floats(6 + COLS), 6, ROWS, COLS, width, blocks);
            }));
        }

        // The angle p * theta^(-2i/hd) reaches MAX_POS rad; cos/sin of it are double on both sides (PoCL: double
        // native_cos/native_sin), rounded to float: 1 float ulp.
        cases.add(DeviceCase.of("ropeTableRow", 1e-6, in -> TaskPackage.createPackage("ropeTables",
                TransformerLaunchers::ropeTables, in.floats(MAX_POS * R_HEAD_DIM / 2),
                in.floats(MAX_POS * R_HEAD_DIM / 2), MAX_POS, R_HEAD_DIM, THETA)));
        // One rotation per pair, x1 * c - x2 * s, which may contract into one fma: 1 ulp of O(1) values.
        int ropeSize = R_TOKENS * R_HEADS * R_HEAD_DIM;
        cases.add(DeviceCase.of("ropeForwardHead", 1e-6, in -> {
            float[][] tables = ropeTables();
            return TaskPackage.createPackage("ropeForward", TransformerLaunchers::ropeForward, in.floats(2 + ropeSize),
                    2, in.floats(3 + ropeSize), 3, in.ints(4 + R_TOKENS, MAX_POS), 4, tables[0], tables[1], R_TOKENS,
                    R_HEADS, R_HEAD_DIM);
        }));
        cases.add(DeviceCase.of("ropeBackwardHead", 1e-6, in -> {
            float[][] tables = ropeTables();
            return TaskPackage.createPackage("ropeBackward", TransformerLaunchers::ropeBackward,
                    in.floats(2 + ropeSize), 2, in.floats(3 + ropeSize), 3, in.ints(4 + R_TOKENS, MAX_POS), 4,
                    tables[0], tables[1], R_TOKENS, R_HEADS, R_HEAD_DIM);
        }));
        cases.add(DeviceCase.of("ropeForwardHead.inPlace", 1e-6, in -> {
            float[][] tables = ropeTables();
            float[] x = in.floats(2 + ropeSize);
            return TaskPackage.createPackage("ropeForward", TransformerLaunchers::ropeForward, x, 2, x, 2,
                    in.ints(4 + R_TOKENS, MAX_POS), 4, tables[0], tables[1], R_TOKENS, R_HEADS, R_HEAD_DIM);
        }));

        cases.addAll(attentionCases());

        // Logits up to +-30: exp would overflow without the max subtraction. Outputs are probabilities <= 1.
        cases.add(DeviceCase.of("softmaxRow", 1e-6, in -> TaskPackage.createPackage("softmax",
                TransformerLaunchers::softmax, in.floats(3 + ROWS * COLS, 30), 3, in.floats(1 + ROWS * COLS), 1,
                ROWS, COLS)));
        cases.add(DeviceCase.of("softmaxRow.inPlace", 1e-6, in -> {
            float[] x = in.floats(3 + ROWS * COLS, 30);
            return TaskPackage.createPackage("softmax", TransformerLaunchers::softmax, x, 3, x, 3, ROWS, COLS);
        }));
        cases.add(DeviceCase.of("softmaxBackwardRow", 1e-6, in -> {
            float[] y = in.floats(3 + ROWS * COLS, 30);
            softmax(y, 3, y, 3, ROWS, COLS);
            return TaskPackage.createPackage("softmaxBackward", TransformerLaunchers::softmaxBackward, y, 3,
                    in.floats(2 + ROWS * COLS), 2, in.floats(5 + ROWS * COLS), 5, ROWS, COLS);
        }));

        // One float operation per element, correctly rounded on both sides: exact.
        cases.add(DeviceCase.of("add", 0, in -> TaskPackage.createPackage("add", TransformerLaunchers::add,
                in.floats(3 + N), 3, in.floats(1 + N), 1, in.floats(2 + N), 2, N)));
        cases.add(DeviceCase.of("add.inPlace", 0, in -> {
            float[] a = in.floats(3 + N);
            return TaskPackage.createPackage("add", TransformerLaunchers::add, a, 3, in.floats(1 + N), 1, a, 3, N);
        }));
        cases.add(DeviceCase.of("scale", 0, in -> TaskPackage.createPackage("scale", TransformerLaunchers::scale,
                in.floats(3 + N), 3, in.holder(-0.37f), in.floats(2 + N), 2, N)));
        return cases;
    }

    /*
     * Attention: B > 1 sequences, S = 13 (not a power of two), H = 3 heads of hd = 7 (odd). q and k scaled so
     * scores reach about +-8: the online softmax rescales its accumulator several times per row. Each output
     * element is a float sum over <= 13 keys of products of hd-term dot products, with exp in between: a few
     * ulps (1e-6 each) of values up to ~10 (dq, dk): 1e-5.
     */
    private static final int Q_OFF = 3, K_OFF = 5, V_OFF = 1, O_OFF = 2, LSE_OFF = 4, G_OFF = 6, DELTA_OFF = 7;

    private static List<DeviceCase> attentionCases() {
        List<DeviceCase> cases = new ArrayList<>();
        cases.add(DeviceCase.of("attentionRow", 1e-5, in -> TaskPackage.createPackage("attention",
                TransformerLaunchers::attention, in.floats(Q_OFF + B * S * AD, 2), Q_OFF,
                in.floats(K_OFF + B * S * AD, 2), K_OFF, in.floats(V_OFF + B * S * AD), V_OFF,
                in.floats(O_OFF + B * S * AD), O_OFF, in.floats(LSE_OFF + B * H * S), LSE_OFF, B, S, S, H, HD,
                in.holder(0))));
        // KV-cache form: 4 new queries at absolute positions 10..13 against 13 cached keys; the last query
        // row hits the j < Sk clamp.
        int newTokens = 4;
        cases.add(DeviceCase.of("attentionRow.kvCache", 1e-5, in -> TaskPackage.createPackage("attention",
                TransformerLaunchers::attention, in.floats(Q_OFF + B * newTokens * AD, 2), Q_OFF,
                in.floats(K_OFF + B * S * AD, 2), K_OFF, in.floats(V_OFF + B * S * AD), V_OFF,
                in.floats(O_OFF + B * newTokens * AD), O_OFF, in.floats(LSE_OFF + B * H * newTokens), LSE_OFF, B,
                newTokens, S, H, HD, in.holder(S - newTokens + 1))));
        cases.add(DeviceCase.of("attentionDeltaRow", 1e-5, in -> {
            AttentionState a = AttentionState.forward(in);
            return TaskPackage.createPackage("attentionDelta", TransformerLaunchers::attentionDelta, a.out, O_OFF,
                    a.dOut, G_OFF, in.floats(DELTA_OFF + B * H * S), DELTA_OFF, B, S, H, HD);
        }));
        cases.add(DeviceCase.of("attentionBackwardQueryRow", 1e-5, in -> {
            AttentionState a = AttentionState.forward(in);
            return TaskPackage.createPackage("attentionBackwardQuery", TransformerLaunchers::attentionBackwardQuery,
                    a.q, Q_OFF, a.k, K_OFF, a.v, V_OFF, a.lse, LSE_OFF, a.dOut, G_OFF, a.delta, DELTA_OFF,
                    in.floats(2 + B * S * AD), 2, B, S, H, HD);
        }));
        cases.add(DeviceCase.of("attentionBackwardKeyRow", 1e-5, in -> {
            AttentionState a = AttentionState.forward(in);
            return TaskPackage.createPackage("attentionBackwardKey", TransformerLaunchers::attentionBackwardKey,
                    a.q, Q_OFF, a.k, K_OFF, a.v, V_OFF, a.lse, LSE_OFF, a.dOut, G_OFF, a.delta, DELTA_OFF,
                    in.floats(3 + B * S * AD), 3, in.floats(1 + B * S * AD), 1, B, S, H, HD);
        }));
        return cases;
    }

    /** Consistent attention inputs for the backward bodies: out, lse and delta made by the plain forward. */
    private record AttentionState(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut,
                                  float[] delta) {

        static AttentionState forward(DeviceCase.Inputs in) {
            float[] q = in.floats(Q_OFF + B * S * AD, 2);
            float[] k = in.floats(K_OFF + B * S * AD, 2);
            float[] v = in.floats(V_OFF + B * S * AD);
            float[] out = new float[O_OFF + B * S * AD];
            float[] lse = new float[LSE_OFF + B * H * S];
            float[] dOut = in.floats(G_OFF + B * S * AD);
            float[] delta = new float[DELTA_OFF + B * H * S];
            attention(q, Q_OFF, k, K_OFF, v, V_OFF, out, O_OFF, lse, LSE_OFF, B, S, S, H, HD, new int[] {0});
            attentionDelta(out, O_OFF, dOut, G_OFF, delta, DELTA_OFF, B, S, H, HD);
            return new AttentionState(q, k, v, out, lse, dOut, delta);
        }
    }

    /** The rstd the forward saves, at {@code rstdOff}, for x [ROWS, COLS] at xOff. */
    private static float[] rstd(float[] x, int xOff, float[] w, int wOff, int rstdOff) {
        float[] rstd = new float[rstdOff + ROWS];
        rmsnorm(x, xOff, w, wOff, new float[ROWS * COLS], 0, rstd, rstdOff, ROWS, COLS, 1e-5f);
        return rstd;
    }

    /** cos and sin tables for MAX_POS positions, as the plain body makes them. */
    private static float[][] ropeTables() {
        float[] cos = new float[MAX_POS * R_HEAD_DIM / 2];
        float[] sin = new float[MAX_POS * R_HEAD_DIM / 2];
        ropeTables(cos, sin, MAX_POS, R_HEAD_DIM, THETA);
        return new float[][] {cos, sin};
    }
}
