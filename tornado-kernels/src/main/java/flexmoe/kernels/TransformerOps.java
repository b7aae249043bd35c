package flexmoe.kernels;

/**
 * The dense-transformer operations of an OLMo-2 block besides the GEMMs: embedding, RMSNorm (also used as
 * OLMo-2's QK-norm over the whole q/k projection), RoPE, causal self-attention, row softmax and the residual
 * glue. Activations are row-major with tokens flattened, T = B * S rows of width D; a [T, D] projection is
 * viewed per head as [T, H, hd] with hd = D / H.
 *
 * <p>Every array is a contiguous row-major block starting at its offset (so parameters and gradients may live
 * in one flat buffer), except the RoPE tables, which start at 0. Gradient convention (llm.c): parameter
 * gradients (dTable, dw) are ACCUMULATED, so callers zero them once per step; input gradients (dx, dq, dk, dv)
 * are OVERWRITTEN, and their old contents, NaN included, are never read. An output may alias an input only
 * where a method says so, and then only at the same offset; any other overlap is rejected.
 *
 * <p>Every method checks all its arguments (the static {@code check*} methods, shared by every backend) and
 * throws {@link IllegalArgumentException} before touching memory.
 */
public interface TransformerOps {

    /**
     * {@code out[t, :] = table[ids[t], :]}. Shapes: {@code ids [T]} in {@code [0, V)}, {@code table [V, D]},
     * {@code out [T, D]} (overwritten).
     */
    void embeddingForward(int[] ids, int idsOff, float[] table, int tableOff, float[] out, int outOff,
                          int tokens, int vocab, int dim);

    /**
     * {@code dTable[ids[t], :] += dOut[t, :]} for every t, in token order whatever the thread count.
     * Shapes: {@code ids [T]}, {@code dOut [T, D]}, {@code dTable [V, D]} (accumulated).
     */
    void embeddingBackward(int[] ids, int idsOff, float[] dOut, int dOutOff, float[] dTable, int dTableOff,
                           int tokens, int vocab, int dim);

    /**
     * {@code y = x * rstd * w} per row with {@code rstd[t] = 1 / sqrt(mean(x[t,:]^2) + eps)}. Shapes:
     * {@code x, y [rows, D]}, {@code w [D]}, {@code rstd [rows]}; y and rstd overwritten (rstd is saved for the
     * backward). y may be x (in place).
     */
    void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] rstd, int rstdOff,
                        int rows, int dim, float eps);

    /**
     * Backward of {@link #rmsnormForward} given its saved rstd. Shapes: {@code x, dy, dx [rows, D]},
     * {@code w, dw [D]}, {@code rstd [rows]}; dx OVERWRITTEN, dw ACCUMULATED. No output may alias an input.
     */
    void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] rstd, int rstdOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, float[] dw, int dwOff, int rows, int dim);

    /**
     * RoPE tables {@code cos[p, i] = cos(p * theta^(-2i/hd))} and likewise sin, for {@code p < maxPos},
     * {@code i < hd/2}. Shapes: {@code cos, sin [maxPos, hd/2]} (overwritten). OLMo-2 uses theta 500000.
     */
    void ropeTables(float[] cos, float[] sin, int maxPos, int headDim, float theta);

    /**
     * Rotate-half RoPE of every head of x by the position of its token. Shapes: {@code x, y [T, D]} viewed as
     * [T, H, hd]; {@code pos [T]} in {@code [0, maxPos)}; tables as made by {@link #ropeTables}. y overwritten;
     * y may be x (in place).
     */
    void ropeForward(float[] x, int xOff, float[] y, int yOff, int[] pos, int posOff, float[] cos, float[] sin,
                     int tokens, int dim, int heads, int maxPos);

    /**
     * Backward of {@link #ropeForward}: dy rotated by the negative angles. Shapes as there; dx OVERWRITTEN; dx may
     * be dy (in place).
     */
    void ropeBackward(float[] dy, int dyOff, float[] dx, int dxOff, int[] pos, int posOff, float[] cos,
                      float[] sin, int tokens, int dim, int heads, int maxPos);

    /**
     * Causal multi-head attention over B independent sequences of length S, scale {@code 1/sqrt(hd)}: query i
     * attends to keys {@code j <= i} of its own sequence. Shapes: {@code q, k, v, out [B*S, D]} (q and k after
     * QK-norm and RoPE); {@code lse [B, H, S]}, the row logsumexp of the scaled scores, saved for the backward.
     * out and lse overwritten; neither may overlap an input.
     */
    void attentionForward(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out, int outOff,
                          float[] lse, int lseOff, int batch, int seq, int dim, int heads);

    /**
     * Attention of new queries against a key/value cache (KV-cache generation): the {@code queries} rows of q are
     * the tokens at absolute positions {@code queryStart .. queryStart + queries - 1} of each sequence, and query
     * i attends to the cached keys {@code j <= queryStart + i}. Same body, scale and bits as
     * {@link #attentionForward}: its output rows {@code queryStart ..} are what this returns, given the same
     * keys. Shapes: {@code q, out [B, queries, D]}; {@code kCache, vCache [B, keys, D]} (keys = the cache
     * capacity, the row stride of a sequence; rows past {@code queryStart + queries} are never read, so they may
     * hold anything); {@code lse [B, H, queries]}. Requires {@code queryStart + queries <= keys}. out and lse
     * overwritten; neither may overlap an input. Prefill is the call with {@code queryStart = 0}.
     */
    void attentionDecode(float[] q, int qOff, float[] kCache, int kOff, float[] vCache, int vOff, float[] out,
                         int outOff, float[] lse, int lseOff, int batch, int queries, int keys, int dim, int heads,
                         int queryStart);

    /**
     * Backward of {@link #attentionForward} from its out and lse (probabilities are recomputed, never stored).
     * Shapes: {@code q, k, v, out, dOut, dq, dk, dv [B*S, D]}; {@code lse, delta [B, H, S]}. delta is scratch
     * (overwritten with {@code rowsum(dOut * out)} per head). dq, dk, dv OVERWRITTEN. Outputs may not overlap
     * inputs or each other.
     */
    void attentionBackward(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out, int outOff,
                           float[] lse, int lseOff, float[] dOut, int dOutOff, float[] delta, int deltaOff,
                           float[] dq, int dqOff, float[] dk, int dkOff, float[] dv, int dvOff,
                           int batch, int seq, int dim, int heads);

    /** {@code y[r, :] = softmax(x[r, :])}, max-subtracted. Shapes: {@code x, y [rows, cols]}; y may be x. */
    void softmaxForward(float[] x, int xOff, float[] y, int yOff, int rows, int cols);

    /**
     * {@code dx = y * (dy - rowsum(dy * y))}. Shapes: {@code y, dy, dx [rows, cols]}; dx OVERWRITTEN; dx may be
     * dy or y (in place).
     */
    void softmaxBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows, int cols);

    /** {@code out = a + b} over {@code [n]}; out may be a or b, so {@code add(a, b, a)} is {@code a += b}. */
    void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n);

    /** {@code out = factor * x} over {@code [n]}; out may be x. */
    void scale(float[] x, int xOff, float factor, float[] out, int outOff, int n);

    // ---- argument checks shared by every backend ----

    /** Checks {@link #embeddingForward}. */
    static void checkEmbeddingForward(int[] ids, int idsOff, float[] table, int tableOff, float[] out, int outOff,
                                      int tokens, int vocab, int dim) {
        String op = "embeddingForward";
        checkEmbedding(op, ids, idsOff, table, tableOff, "table", out, outOff, "out", tokens, vocab, dim);
    }

    /** Checks {@link #embeddingBackward}. */
    static void checkEmbeddingBackward(int[] ids, int idsOff, float[] dOut, int dOutOff, float[] dTable,
                                       int dTableOff, int tokens, int vocab, int dim) {
        String op = "embeddingBackward";
        checkEmbedding(op, ids, idsOff, dTable, dTableOff, "dTable", dOut, dOutOff, "dOut", tokens, vocab, dim);
    }

    /** Checks {@link #rmsnormForward}. */
    static void checkRmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] rstd,
                                    int rstdOff, int rows, int dim, float eps) {
        String op = "rmsnormForward";
        KernelArgs.positive(op, "rows", rows);
        KernelArgs.positive(op, "dim", dim);
        KernelArgs.require(Float.isFinite(eps) && eps >= 0, op, "eps must be finite and non-negative, got " + eps);
        long n = KernelArgs.size(op, rows, dim);
        KernelArgs.length(op, "x", x, xOff, n);
        KernelArgs.length(op, "w", w, wOff, dim);
        KernelArgs.length(op, "y", y, yOff, n);
        KernelArgs.length(op, "rstd", rstd, rstdOff, rows);
        sameOrDisjoint(op, "y", y, yOff, n, "x", x, xOff, n);
        disjoint(op, "y", y, yOff, n, "w", w, wOff, dim);
        disjoint(op, "rstd", rstd, rstdOff, rows, "x", x, xOff, n);
        disjoint(op, "rstd", rstd, rstdOff, rows, "w", w, wOff, dim);
        disjoint(op, "rstd", rstd, rstdOff, rows, "y", y, yOff, n);
    }

    /** Checks {@link #rmsnormBackward}. */
    static void checkRmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] rstd, int rstdOff,
                                     float[] dy, int dyOff, float[] dx, int dxOff, float[] dw, int dwOff,
                                     int rows, int dim) {
        String op = "rmsnormBackward";
        KernelArgs.positive(op, "rows", rows);
        KernelArgs.positive(op, "dim", dim);
        long n = KernelArgs.size(op, rows, dim);
        KernelArgs.length(op, "x", x, xOff, n);
        KernelArgs.length(op, "w", w, wOff, dim);
        KernelArgs.length(op, "rstd", rstd, rstdOff, rows);
        KernelArgs.length(op, "dy", dy, dyOff, n);
        KernelArgs.length(op, "dx", dx, dxOff, n);
        KernelArgs.length(op, "dw", dw, dwOff, dim);
        float[][] ins = {x, w, rstd, dy};
        int[] inOffs = {xOff, wOff, rstdOff, dyOff};
        long[] inLens = {n, dim, rows, n};
        String[] inNames = {"x", "w", "rstd", "dy"};
        for (int i = 0; i < ins.length; i++) {
            disjoint(op, "dx", dx, dxOff, n, inNames[i], ins[i], inOffs[i], inLens[i]);
            disjoint(op, "dw", dw, dwOff, dim, inNames[i], ins[i], inOffs[i], inLens[i]);
        }
        disjoint(op, "dw", dw, dwOff, dim, "dx", dx, dxOff, n);
    }

    /** Checks {@link #ropeTables}. */
    static void checkRopeTables(float[] cos, float[] sin, int maxPos, int headDim, float theta) {
        String op = "ropeTables";
        KernelArgs.positive(op, "maxPos", maxPos);
        KernelArgs.positive(op, "headDim", headDim);
        KernelArgs.require(headDim % 2 == 0, op, "headDim must be even (rotate-half pairs i, i + hd/2), got "
                + headDim);
        KernelArgs.require(Float.isFinite(theta) && theta > 0, op, "theta must be finite and positive, got " + theta);
        long n = KernelArgs.size(op, maxPos, headDim / 2);
        KernelArgs.length(op, "cos", cos, n);
        KernelArgs.length(op, "sin", sin, n);
        disjoint(op, "cos", cos, 0, n, "sin", sin, 0, n);
    }

    /** Checks {@link #ropeForward} ({@code op} "ropeForward", names x, y) and {@link #ropeBackward}. */
    static void checkRope(String op, String inName, float[] in, int inOff, String outName, float[] out, int outOff,
                          int[] pos, int posOff, float[] cos, float[] sin, int tokens, int dim, int heads,
                          int maxPos) {
        KernelArgs.positive(op, "tokens", tokens);
        KernelArgs.positive(op, "maxPos", maxPos);
        int hd = headDim(op, dim, heads);
        KernelArgs.require(hd % 2 == 0, op, "head dim " + hd + " (dim " + dim + " / heads " + heads
                + ") must be even (rotate-half pairs i, i + hd/2)");
        long n = KernelArgs.size(op, tokens, dim);
        long table = KernelArgs.size(op, maxPos, hd / 2);
        KernelArgs.length(op, inName, in, inOff, n);
        KernelArgs.length(op, outName, out, outOff, n);
        KernelArgs.length(op, "pos", pos, posOff, tokens);
        KernelArgs.length(op, "cos", cos, table);
        KernelArgs.length(op, "sin", sin, table);
        sameOrDisjoint(op, outName, out, outOff, n, inName, in, inOff, n);
        disjoint(op, outName, out, outOff, n, "cos", cos, 0, table);
        disjoint(op, outName, out, outOff, n, "sin", sin, 0, table);
        inRange(op, "pos", pos, posOff, tokens, maxPos);
    }

    /** Checks {@link #attentionForward}. */
    static void checkAttentionForward(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out,
                                      int outOff, float[] lse, int lseOff, int batch, int seq, int dim, int heads) {
        String op = "attentionForward";
        KernelArgs.positive(op, "batch", batch);
        KernelArgs.positive(op, "seq", seq);
        headDim(op, dim, heads);
        long n = KernelArgs.size(op, batch, seq, dim);
        long stats = KernelArgs.size(op, batch, heads, seq);
        KernelArgs.length(op, "q", q, qOff, n);
        KernelArgs.length(op, "k", k, kOff, n);
        KernelArgs.length(op, "v", v, vOff, n);
        KernelArgs.length(op, "out", out, outOff, n);
        KernelArgs.length(op, "lse", lse, lseOff, stats);
        String[] names = {"q", "k", "v"};
        float[][] ins = {q, k, v};
        int[] offs = {qOff, kOff, vOff};
        for (int i = 0; i < 3; i++) {
            disjoint(op, "out", out, outOff, n, names[i], ins[i], offs[i], n);
            disjoint(op, "lse", lse, lseOff, stats, names[i], ins[i], offs[i], n);
        }
        disjoint(op, "lse", lse, lseOff, stats, "out", out, outOff, n);
    }

    /** Checks {@link #attentionDecode}. */
    static void checkAttentionDecode(float[] q, int qOff, float[] kCache, int kOff, float[] vCache, int vOff,
                                     float[] out, int outOff, float[] lse, int lseOff, int batch, int queries,
                                     int keys, int dim, int heads, int queryStart) {
        String op = "attentionDecode";
        KernelArgs.positive(op, "batch", batch);
        KernelArgs.positive(op, "queries", queries);
        KernelArgs.positive(op, "keys", keys);
        KernelArgs.nonNegative(op, "queryStart", queryStart);
        KernelArgs.require((long) queryStart + queries <= keys, op, "queryStart " + queryStart + " + queries "
                + queries + " exceeds keys " + keys + " (the new tokens' keys must be in the cache)");
        headDim(op, dim, heads);
        long n = KernelArgs.size(op, batch, queries, dim);
        long cache = KernelArgs.size(op, batch, keys, dim);
        long stats = KernelArgs.size(op, batch, heads, queries);
        KernelArgs.length(op, "q", q, qOff, n);
        KernelArgs.length(op, "kCache", kCache, kOff, cache);
        KernelArgs.length(op, "vCache", vCache, vOff, cache);
        KernelArgs.length(op, "out", out, outOff, n);
        KernelArgs.length(op, "lse", lse, lseOff, stats);
        String[] names = {"q", "kCache", "vCache"};
        float[][] ins = {q, kCache, vCache};
        int[] offs = {qOff, kOff, vOff};
        long[] lens = {n, cache, cache};
        for (int i = 0; i < 3; i++) {
            disjoint(op, "out", out, outOff, n, names[i], ins[i], offs[i], lens[i]);
            disjoint(op, "lse", lse, lseOff, stats, names[i], ins[i], offs[i], lens[i]);
        }
        disjoint(op, "lse", lse, lseOff, stats, "out", out, outOff, n);
    }

    /** Checks {@link #attentionBackward}. */
    static void checkAttentionBackward(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out,
                                       int outOff, float[] lse, int lseOff, float[] dOut, int dOutOff,
                                       float[] delta, int deltaOff, float[] dq, int dqOff, float[] dk, int dkOff,
                                       float[] dv, int dvOff, int batch, int seq, int dim, int heads) {
        String op = "attentionBackward";
        KernelArgs.positive(op, "batch", batch);
        KernelArgs.positive(op, "seq", seq);
        headDim(op, dim, heads);
        long n = KernelArgs.size(op, batch, seq, dim);
        long stats = KernelArgs.size(op, batch, heads, seq);
        String[] inNames = {"q", "k", "v", "out", "lse", "dOut"};
        float[][] ins = {q, k, v, out, lse, dOut};
        int[] inOffs = {qOff, kOff, vOff, outOff, lseOff, dOutOff};
        long[] inLens = {n, n, n, n, stats, n};
        String[] outNames = {"delta", "dq", "dk", "dv"};
        float[][] outs = {delta, dq, dk, dv};
        int[] outOffs = {deltaOff, dqOff, dkOff, dvOff};
        long[] outLens = {stats, n, n, n};
        for (int i = 0; i < ins.length; i++) {
            KernelArgs.length(op, inNames[i], ins[i], inOffs[i], inLens[i]);
        }
        for (int o = 0; o < outs.length; o++) {
            KernelArgs.length(op, outNames[o], outs[o], outOffs[o], outLens[o]);
        }
        for (int o = 0; o < outs.length; o++) {
            for (int i = 0; i < ins.length; i++) {
                disjoint(op, outNames[o], outs[o], outOffs[o], outLens[o], inNames[i], ins[i], inOffs[i], inLens[i]);
            }
            for (int p = 0; p < o; p++) {
                disjoint(op, outNames[o], outs[o], outOffs[o], outLens[o], outNames[p], outs[p], outOffs[p],
                        outLens[p]);
            }
        }
    }

    /** Checks {@link #softmaxForward}. */
    static void checkSoftmaxForward(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        String op = "softmaxForward";
        KernelArgs.positive(op, "rows", rows);
        KernelArgs.positive(op, "cols", cols);
        long n = KernelArgs.size(op, rows, cols);
        KernelArgs.length(op, "x", x, xOff, n);
        KernelArgs.length(op, "y", y, yOff, n);
        sameOrDisjoint(op, "y", y, yOff, n, "x", x, xOff, n);
    }

    /** Checks {@link #softmaxBackward}. */
    static void checkSoftmaxBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows,
                                     int cols) {
        String op = "softmaxBackward";
        KernelArgs.positive(op, "rows", rows);
        KernelArgs.positive(op, "cols", cols);
        long n = KernelArgs.size(op, rows, cols);
        KernelArgs.length(op, "y", y, yOff, n);
        KernelArgs.length(op, "dy", dy, dyOff, n);
        KernelArgs.length(op, "dx", dx, dxOff, n);
        sameOrDisjoint(op, "dx", dx, dxOff, n, "y", y, yOff, n);
        sameOrDisjoint(op, "dx", dx, dxOff, n, "dy", dy, dyOff, n);
    }

    /** Checks {@link #add}. */
    static void checkAdd(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        String op = "add";
        KernelArgs.positive(op, "n", n);
        KernelArgs.length(op, "a", a, aOff, n);
        KernelArgs.length(op, "b", b, bOff, n);
        KernelArgs.length(op, "out", out, outOff, n);
        sameOrDisjoint(op, "out", out, outOff, n, "a", a, aOff, n);
        sameOrDisjoint(op, "out", out, outOff, n, "b", b, bOff, n);
    }

    /** Checks {@link #scale}. */
    static void checkScale(float[] x, int xOff, float factor, float[] out, int outOff, int n) {
        String op = "scale";
        KernelArgs.positive(op, "n", n);
        KernelArgs.length(op, "x", x, xOff, n);
        KernelArgs.length(op, "out", out, outOff, n);
        sameOrDisjoint(op, "out", out, outOff, n, "x", x, xOff, n);
    }

    /** The head width {@code dim / heads}, after checking both are positive and heads divides dim. */
    static int headDim(String op, int dim, int heads) {
        KernelArgs.positive(op, "dim", dim);
        KernelArgs.positive(op, "heads", heads);
        KernelArgs.require(dim % heads == 0, op, "dim " + dim + " is not divisible by heads " + heads);
        return dim / heads;
    }

    private static void checkEmbedding(String op, int[] ids, int idsOff, float[] table, int tableOff,
                                       String tableName, float[] rows, int rowsOff, String rowsName,
                                       int tokens, int vocab, int dim) {
        KernelArgs.positive(op, "tokens", tokens);
        KernelArgs.positive(op, "vocab", vocab);
        KernelArgs.positive(op, "dim", dim);
        long tableSize = KernelArgs.size(op, vocab, dim);
        long n = KernelArgs.size(op, tokens, dim);
        KernelArgs.length(op, "ids", ids, idsOff, tokens);
        KernelArgs.length(op, tableName, table, tableOff, tableSize);
        KernelArgs.length(op, rowsName, rows, rowsOff, n);
        disjoint(op, tableName, table, tableOff, tableSize, rowsName, rows, rowsOff, n);
        inRange(op, "ids", ids, idsOff, tokens, vocab);
    }

    /** Every {@code values[off + t]}, t < n, must lie in {@code [0, bound)}; names the first that does not. */
    private static void inRange(String op, String name, int[] values, int off, int n, int bound) {
        for (int t = 0; t < n; t++) {
            int value = values[off + t];
            if (value < 0 || value >= bound) {
                throw new IllegalArgumentException(op + ": " + name + "[" + t + "] = " + value
                        + " is out of range [0, " + bound + ")");
            }
        }
    }

    /** The two regions of one array must not share an element. */
    private static void disjoint(String op, String aName, float[] a, int aOff, long aLen, String bName, float[] b,
                                 int bOff, long bLen) {
        if (a == b && aOff < bOff + bLen && bOff < aOff + aLen) {
            throw new IllegalArgumentException(op + ": " + aName + " overlaps " + bName);
        }
    }

    /** In place (same array, same offset) is allowed; a partial overlap is not. */
    private static void sameOrDisjoint(String op, String aName, float[] a, int aOff, long aLen, String bName,
                                       float[] b, int bOff, long bLen) {
        if (a == b && aOff != bOff && aOff < bOff + bLen && bOff < aOff + aLen) {
            throw new IllegalArgumentException(op + ": " + aName + " partially overlaps " + bName
                    + " (in place needs the same offset)");
        }
    }
}
