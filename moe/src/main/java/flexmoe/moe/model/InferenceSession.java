package flexmoe.moe.model;

import flexmoe.kernels.Backend;
import flexmoe.kernels.TransformerOps;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The inference forward of a FlexOlmo model (any {@link Parameters}: a dense public model or a composed MoE) with
 * a key/value cache: B sequences advance together, each call appends {@code count} tokens to every sequence and
 * returns their logits. Prefill is the first call with the whole prompt; decoding is then one token per call.
 *
 * <p>Each block is {@link FlexOlmoModel}'s own block forward over the new tokens only, at their absolute
 * positions (continuing from the cached ones), with one difference in the attention step: the new keys (after
 * QK-norm and RoPE) and values are appended to the layer's cache and the new queries attend to the cache
 * ({@link TransformerOps#attentionDecode}). So the logits of a token equal the full forward's at that position:
 * bit for bit when every kernel gives a row the same bits whatever the number of rows (the reference backend; the
 * JVM backend when no product is small enough for its GEMM's plain-body path), otherwise within float rounding.
 * {@code InferenceSessionTest} checks both.
 *
 * <p>Decode steps multiply by transposed copies of the weights (made at a weight's first use after a reset), so
 * that one-token products skip the GEMM's packing; the bits are those of the stored layout. The session then
 * holds a second copy of the weights; parameters changed after the first decode step are seen after
 * {@link #reset()}.
 *
 * <p>Buffers for {@code batch * capacity} tokens are allocated once (one set of block buffers, reused by every
 * layer). The cache of layer l holds {@code [B, capacity, D]} keys and values; a sequence's row p is the token at
 * position p. Not thread-safe.
 */
public final class InferenceSession {

    private final Parameters params;
    private final ModelConfig config;
    private final Backend backend;
    private final FlexOlmoModel model;
    private final int batch;
    private final int capacity;
    private final float[][] keyCache;
    private final float[][] valueCache;
    /** Tokens cached per sequence: the position of the next token. */
    private int length;
    /** Tokens per sequence of the last forward (its rows are b * lastCount + i). */
    private int lastCount;

    // Buffers for up to batch * capacity new tokens (T rows).
    private final Activations.Layer block;
    private final int[] pos;
    private final float[] x;
    private final float[] rstd;
    private final float[] finalNormed;
    private final float[] logits;
    /** Each layer's top-k ids of the last forward (MoE only). */
    private final int[][] ids;
    /**
     * Products with at most this many rows (decode steps of up to 4 sequences) multiply by Wᵀ, which the JVM
     * GEMM runs without packing; larger ones (prefill) by W as stored. Same bits either way.
     */
    private static final int DECODE_ROWS = 4;
    /** Wᵀ of every weight a decode step has used since the last reset, made on first use. */
    private final Map<Tensor, float[]> weightsTransposed = new IdentityHashMap<>();
    private final FlexOlmoModel.Projection transposed;

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
        int d = config.dim(), f = config.ffnHidden(), kk = config.topK();
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
        this.model = new FlexOlmoModel(params, backend);
        int rows = (int) rowsLong;
        keyCache = new float[config.layers()][rows * d];
        valueCache = new float[config.layers()][rows * d];
        block = new Activations.Layer(config, batch, capacity);
        pos = new int[rows];
        x = new float[rows * d];
        rstd = new float[rows];
        finalNormed = new float[rows * d];
        logits = new float[(int) logitsSize];
        ids = config.isDense() ? null : new int[config.layers()][rows * kk];
        FlexOlmoModel.Projection stored = FlexOlmoModel.stored(backend);
        transposed = (in, inOff, w, out, outOff, n, outDim, inDim) -> {
            if (n > DECODE_ROWS) {
                stored.apply(in, inOff, w, out, outOff, n, outDim, inDim);
            } else {
                backend.gemm().matmul(in, inOff, weightsTransposed.computeIfAbsent(w, InferenceSession::transpose), 0,
                        out, outOff, n, outDim, inDim, false);
            }
        };
    }

    /** {@code W [out, in]} as {@code Wᵀ [in, out]}. */
    private static float[] transpose(Tensor w) {
        int out = w.shape()[0];
        int in = w.shape()[1];
        float[] data = w.data();
        float[] t = new float[data.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                t[i * out + o] = data[o * in + i];
            }
        }
        return t;
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

    /**
     * Forgets the cached tokens (the buffers stay allocated) and the transposed weights, so a session reused
     * after the parameters changed (say, between training steps) computes with the new values.
     */
    public void reset() {
        length = 0;
        lastCount = 0;
        weightsTransposed.clear();
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
        FlexOlmoModel.AttentionStep cached = (l, a) -> {
            float[] kc = keyCache[l], vc = valueCache[l];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(a.kRot, b * count * d, kc, (b * capacity + start) * d, count * d);
                System.arraycopy(a.v, b * count * d, vc, (b * capacity + start) * d, count * d);
            }
            tr.attentionDecode(a.qRot, 0, kc, 0, vc, 0, a.attention, 0, a.attentionLse, 0, batch, count, capacity,
                    d, config.heads(), start);
        };
        for (int l = 0; l < config.layers(); l++) {
            // x in, the block's output back into x (the block reads x for the last time before its FFN).
            model.blockForward(l, block, x, x, t, pos, cached, transposed);
            if (ids != null) {
                System.arraycopy(block.ids, 0, ids[l], 0, t * config.topK());
            }
        }
        tr.rmsnormForward(x, 0, params.finalNorm().data(), 0, finalNormed, 0, rstd, 0, t, d,
                (float) config.normEps());
        transposed.apply(finalNormed, 0, params.lmHead(), logits, 0, t, v, d);
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
}
