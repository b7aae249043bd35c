package flexmoe.moe.generate;

import flexmoe.kernels.Backend;
import flexmoe.kernels.GemmOps;
import flexmoe.kernels.MoeOps;
import flexmoe.kernels.TransformerOps;
import flexmoe.moe.model.ExpertLayer;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.LayerParameters;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;

/**
 * The inference forward of a FlexOlmo model (any {@link Parameters}: a dense public model or a composed MoE) with
 * a key/value cache: B sequences advance together, each call appends {@code count} tokens to every sequence and
 * returns their logits. Prefill is the first call with the whole prompt; decoding is then one token per call.
 *
 * <p>Per block the operations are {@link FlexOlmoModel#forward}'s, in the same order, over the new tokens only:
 * q, k, v projections; QK-norm per token over the whole projection; RoPE at the tokens' absolute positions
 * (continuing from the cached ones); the new keys (after norm and RoPE) and values appended to the layer's cache;
 * {@link TransformerOps#attentionDecode} of the new queries against the cache; the post-attention norm and
 * residual; the MoE with per-token routing (router logits {@code r_e·h + min(b_e, 0)}, softmax over all experts,
 * top-k, gates not renormalised) or the dense FFN; the FFN norm and residual; final norm and LM head. So the
 * logits of a token equal the full forward's at that position: bit for bit when every kernel gives a row the same
 * bits whatever the number of rows (the reference backend; the JVM backend when no product is small enough for
 * its GEMM's plain-body path), otherwise within float rounding. {@code InferenceSessionTest} checks both.
 *
 * <p>Buffers for {@code batch * capacity} tokens are allocated once. The cache of layer l holds
 * {@code [B, capacity, D]} keys and values; a sequence's row p is the token at position p. Not thread-safe.
 */
public final class InferenceSession {

    private final Parameters params;
    private final ModelConfig config;
    private final Backend backend;
    private final int batch;
    private final int capacity;
    private final float[] ropeCos;
    private final float[] ropeSin;
    private final float[][] keyCache;
    private final float[][] valueCache;
    /** Tokens cached per sequence: the position of the next token. */
    private int length;
    /** Tokens per sequence of the last forward (its rows are b * lastCount + i). */
    private int lastCount;

    // Work buffers for up to batch * capacity new tokens (T rows); shapes as in FlexOlmoModel's Activations.
    private final int[] pos;
    private final float[] x;
    private final float[] qRaw;
    private final float[] kRaw;
    private final float[] vNew;
    private final float[] q;
    private final float[] k;
    private final float[] attention;
    private final float[] attentionLse;
    private final float[] o;
    private final float[] h;
    private final float[] m;
    private final float[] rstd;
    private final float[] gateUp;
    private final float[] hidden;
    private final float[] finalNormed;
    private final float[] logits;
    // MoE only (null for the dense model).
    private final float[] xe;
    private final float[] ye;
    private final float[] routerPacked;
    private final float[] biasPacked;
    private final float[] probs;
    private final float[] routerLse;
    private final float[] gates;
    private final int[][] ids;
    private final int[] counts;
    private final int[] offsets;
    private final int[] slotRow;
    private final int[] rowToken;

    /**
     * A session for {@code batch} sequences of at most {@code capacity} tokens each (at most the model's
     * maxSeqLen, the length of its RoPE table).
     */
    public InferenceSession(Parameters params, Backend backend, int batch, int capacity) {
        if (params == null || backend == null) {
            throw new IllegalArgumentException("InferenceSession: parameters and backend are required");
        }
        this.params = params;
        this.config = params.config();
        this.backend = backend;
        if (batch < 1) {
            throw new IllegalArgumentException("InferenceSession: batch must be at least 1, got " + batch);
        }
        if (capacity < 1 || capacity > config.maxSeqLen()) {
            throw new IllegalArgumentException("InferenceSession: capacity must be in [1, maxSeqLen = "
                    + config.maxSeqLen() + "], got " + capacity);
        }
        int d = config.dim(), f = config.ffnHidden(), e = config.experts(), kk = config.topK();
        long rowsLong = (long) batch * capacity;
        long logitsSize = rowsLong * config.vocabSize();
        long cacheSize = rowsLong * d;
        long expertRows = rowsLong * kk * 2 * f;
        if (logitsSize > Integer.MAX_VALUE - 8 || cacheSize > Integer.MAX_VALUE - 8
                || expertRows > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("InferenceSession: batch " + batch + " x capacity " + capacity
                    + " makes a buffer larger than a Java array (logits " + logitsSize + "): use smaller batches");
        }
        this.batch = batch;
        this.capacity = capacity;
        int rows = (int) rowsLong;
        int half = config.headDim() / 2;
        // The full table, as FlexOlmoModel makes it, so that every position gets the training forward's angles.
        ropeCos = new float[config.maxSeqLen() * half];
        ropeSin = new float[config.maxSeqLen() * half];
        backend.transformer().ropeTables(ropeCos, ropeSin, config.maxSeqLen(), config.headDim(),
                (float) config.ropeTheta());
        keyCache = new float[config.layers()][rows * d];
        valueCache = new float[config.layers()][rows * d];
        pos = new int[rows];
        x = new float[rows * d];
        qRaw = new float[rows * d];
        kRaw = new float[rows * d];
        vNew = new float[rows * d];
        q = new float[rows * d];
        k = new float[rows * d];
        attention = new float[rows * d];
        attentionLse = new float[rows * config.heads()];
        o = new float[rows * d];
        h = new float[rows * d];
        m = new float[rows * d];
        rstd = new float[rows];
        gateUp = new float[rows * kk * 2 * f];
        hidden = new float[rows * kk * f];
        finalNormed = new float[rows * d];
        logits = new float[(int) logitsSize];
        boolean moe = !config.isDense();
        xe = moe ? new float[rows * kk * d] : null;
        ye = moe ? new float[rows * kk * d] : null;
        routerPacked = moe ? new float[e * d] : null;
        biasPacked = moe ? new float[e] : null;
        probs = moe ? new float[rows * e] : null;
        routerLse = moe ? new float[rows] : null;
        gates = moe ? new float[rows * kk] : null;
        ids = moe ? new int[config.layers()][rows * kk] : null;
        counts = moe ? new int[e] : null;
        offsets = moe ? new int[e + 1] : null;
        slotRow = moe ? new int[rows * kk] : null;
        rowToken = moe ? new int[rows * kk] : null;
    }

    public ModelConfig config() {
        return config;
    }

    public int batch() {
        return batch;
    }

    public int capacity() {
        return capacity;
    }

    /** Tokens cached per sequence, i.e. the position the next token gets. */
    public int length() {
        return length;
    }

    /** Forgets the cached tokens (the buffers stay allocated). */
    public void reset() {
        length = 0;
        lastCount = 0;
    }

    /**
     * Appends {@code count} tokens to each sequence and runs them: {@code tokens [B, count]} row-major
     * ({@code tokens[b * count + i]} is the i-th new token of sequence b, at position {@link #length()} + i).
     * Returns the logits {@code [B * count, V]}: row {@code b * count + i} predicts the token after that one. The
     * returned array is the session's buffer (it may be longer than that): valid until the next call.
     */
    public float[] forward(int[] tokens, int count) {
        if (tokens == null) {
            throw new IllegalArgumentException("InferenceSession.forward: tokens is null");
        }
        if (count < 1) {
            throw new IllegalArgumentException("InferenceSession.forward: count must be at least 1, got " + count);
        }
        if ((long) batch * count != tokens.length) {
            throw new IllegalArgumentException("InferenceSession.forward: " + tokens.length + " tokens for batch "
                    + batch + " x count " + count);
        }
        if (length + count > capacity) {
            throw new IllegalArgumentException("InferenceSession.forward: " + length + " cached + " + count
                    + " new tokens exceed the session's capacity " + capacity);
        }
        int v = config.vocabSize();
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= v) {
                throw new IllegalArgumentException("InferenceSession.forward: token " + tokens[i] + " (index " + i
                        + ") is out of the vocabulary range [0, " + v + ")");
            }
        }
        int t = tokens.length, d = config.dim();
        int start = length;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < count; i++) {
                pos[b * count + i] = start + i;
            }
        }
        TransformerOps tr = backend.transformer();
        tr.embeddingForward(tokens, 0, params.embedding().data(), 0, x, 0, t, v, d);
        for (int l = 0; l < config.layers(); l++) {
            block(l, t, count, start);
        }
        tr.rmsnormForward(x, 0, params.finalNorm().data(), 0, finalNormed, 0, rstd, 0, t, d,
                (float) config.normEps());
        backend.gemm().matmulNT(finalNormed, 0, params.lmHead().data(), 0, logits, 0, t, v, d, false);
        length += count;
        lastCount = count;
        return logits;
    }

    /**
     * The top-k expert ids of the last forward's tokens in layer {@code layer}, {@code [B * count, k]} in
     * descending router logit (a copy): what FlexOlmo's routing analysis counts. All zeros for the dense model.
     */
    public int[] topKIds(int layer) {
        if (lastCount == 0) {
            throw new IllegalStateException("topKIds: no forward since the session was created or reset");
        }
        if (layer < 0 || layer >= config.layers()) {
            throw new IllegalArgumentException("topKIds: layer must be in [0, " + config.layers() + "), got "
                    + layer);
        }
        int n = batch * lastCount * config.topK();
        return config.isDense() ? new int[n] : java.util.Arrays.copyOf(ids[layer], n);
    }

    // ---- one block, over the t = B * count new tokens ------------------------------------------------------

    private void block(int l, int t, int count, int start) {
        LayerParameters p = params.layer(l);
        int d = config.dim(), heads = config.heads();
        float eps = (float) config.normEps();
        GemmOps gemm = backend.gemm();
        TransformerOps tr = backend.transformer();

        gemm.matmulNT(x, 0, p.qProj().data(), 0, qRaw, 0, t, d, d, false);
        gemm.matmulNT(x, 0, p.kProj().data(), 0, kRaw, 0, t, d, d, false);
        gemm.matmulNT(x, 0, p.vProj().data(), 0, vNew, 0, t, d, d, false);
        // OLMo-2 QK-norm normalises each token's whole projection, so new tokens need nothing from the cache.
        tr.rmsnormForward(qRaw, 0, p.qNorm().data(), 0, q, 0, rstd, 0, t, d, eps);
        tr.rmsnormForward(kRaw, 0, p.kNorm().data(), 0, k, 0, rstd, 0, t, d, eps);
        tr.ropeForward(q, 0, q, 0, pos, 0, ropeCos, ropeSin, t, d, heads, config.maxSeqLen());
        tr.ropeForward(k, 0, k, 0, pos, 0, ropeCos, ropeSin, t, d, heads, config.maxSeqLen());
        float[] kc = keyCache[l], vc = valueCache[l];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(k, b * count * d, kc, (b * capacity + start) * d, count * d);
            System.arraycopy(vNew, b * count * d, vc, (b * capacity + start) * d, count * d);
        }
        tr.attentionDecode(q, 0, kc, 0, vc, 0, attention, 0, attentionLse, 0, batch, count, capacity, d, heads,
                start);
        gemm.matmulNT(attention, 0, p.oProj().data(), 0, o, 0, t, d, d, false);
        tr.rmsnormForward(o, 0, p.postAttentionNorm().data(), 0, h, 0, rstd, 0, t, d, eps);
        tr.add(x, 0, h, 0, h, 0, t * d);

        if (config.isDense()) {
            ExpertLayer e = p.expert(0);
            int f = config.ffnHidden();
            gemm.matmulNT(h, 0, e.gateUp().data(), 0, gateUp, 0, t, 2 * f, d, false);
            backend.moe().swigluFusedForward(gateUp, 0, hidden, 0, t, f);
            gemm.matmulNT(hidden, 0, e.down().data(), 0, m, 0, t, d, f, false);
        } else {
            moe(p, l, t);
        }
        // x is not needed any more: the block's output replaces it (out = h + RMSNorm(m)).
        tr.rmsnormForward(m, 0, p.postFeedforwardNorm().data(), 0, x, 0, rstd, 0, t, d, eps);
        tr.add(h, 0, x, 0, x, 0, t * d);
    }

    private void moe(LayerParameters p, int l, int t) {
        int d = config.dim(), f = config.ffnHidden(), experts = config.experts(), kk = config.topK();
        GemmOps gemm = backend.gemm();
        MoeOps moe = backend.moe();
        p.packRouter(routerPacked, biasPacked);
        int[] layerIds = ids[l];
        moe.routerForward(h, 0, routerPacked, 0, biasPacked, 0, probs, 0, routerLse, 0, layerIds, 0, gates, 0, t, d,
                experts, kk);
        moe.dispatchPlan(layerIds, 0, t, experts, kk, counts, 0, offsets, 0, slotRow, 0, rowToken, 0);
        moe.gather(h, 0, rowToken, 0, xe, 0, t, d, kk);
        for (int e = 0; e < experts; e++) {
            int r0 = offsets[e], n = offsets[e + 1] - r0;
            if (n == 0) {
                continue; // no token chose this expert: a GEMM needs at least one row
            }
            ExpertLayer x = p.expert(e);
            gemm.matmulNT(xe, r0 * d, x.gateUp().data(), 0, gateUp, r0 * 2 * f, n, 2 * f, d, false);
            moe.swigluFusedForward(gateUp, r0 * 2 * f, hidden, r0 * f, n, f);
            gemm.matmulNT(hidden, r0 * f, x.down().data(), 0, ye, r0 * d, n, d, f, false);
        }
        moe.combine(ye, 0, slotRow, 0, gates, 0, m, 0, t, d, kk);
    }
}
