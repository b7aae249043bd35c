package flexmoe.kernels.jvm;

import flexmoe.kernels.AttentionKernels;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal attention on the Vector API, one (sequence, head) at a time in blocks of {@link #QUERY_BLOCK} query
 * rows: a block's scores, probabilities and their gradients are small register-tiled matrix products
 * ({@link #tile}) over a transposed copy of the head's keys (and values, in the backward) instead of one
 * hd-long dot product and one axpy per (query, key) pair, which ran at a small fraction of the FMA peak
 * (horizontal sums and loads per FMA). The exponentials are {@link VectorMath#exp}.
 *
 * <p>Same contract as the plain bodies of {@link AttentionKernels} (exact two-pass softmax per row instead of
 * their online one; results differ by rounding only, which AttentionTest bounds). Bits: every score, output
 * element and gradient element is one fused multiply-add chain in a fixed order (keys or queries ascending)
 * whatever the tiling, every row's softmax depends only on the row's own key count, and one (sequence, head)
 * is one task: the thread count never changes a bit, the JIT never does (no {@code reduceLanes}, no
 * intrinsic transcendental: {@link VectorMath}), and a decode call gives the training forward's rows bit for bit.
 *
 * <p>Memory: per thread, the transposed keys (and values) of one head and two blocks of scores, each
 * {@code QUERY_BLOCK x keys} floats (reused between calls).
 */
final class JvmAttention {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();

    /** Query rows per block: 64 rows of 256 keys are 64 KB per score buffer, in L2 with the head's keys. */
    static final int QUERY_BLOCK = 64;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private JvmAttention() {
    }

    /**
     * Forward of head h of sequence b: rows {@code 0 .. seqQ-1} of q are the queries at absolute positions
     * {@code queryStart + i}, attending to keys {@code 0 .. queryStart + i} of k/v (row stride of a sequence:
     * seqK). Shapes as {@link flexmoe.kernels.TransformerOps#attentionDecode}; training is queryStart 0 with
     * seqQ = seqK. The head's out columns and lse entries OVERWRITTEN.
     */
    static void forwardHead(int b, int h, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                            float[] out, int outOff, float[] lse, int lseOff, int seqQ, int seqK, int heads,
                            int headDim, int queryStart) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int keys = queryStart + seqQ;
        int stride = stride(keys);
        Scratch s = SCRATCH.get();
        float[] kt = s.kt(headDim * stride);
        float[] p = s.p(QUERY_BLOCK * stride);
        float[] inv = s.inv();
        int kBase = kOff + b * seqK * dim + h * headDim;
        int vBase = vOff + b * seqK * dim + h * headDim;
        int qBase = qOff + b * seqQ * dim + h * headDim;
        int oBase = outOff + b * seqQ * dim + h * headDim;
        int stats = lseOff + (b * heads + h) * seqQ;
        transpose(k, kBase, dim, keys, headDim, kt, stride);
        for (int i0 = 0; i0 < seqQ; i0 += QUERY_BLOCK) {
            int rows = Math.min(QUERY_BLOCK, seqQ - i0);
            int cols = roundUp(queryStart + i0 + rows, 4 * L);
            tile(q, qBase + i0 * dim, dim, 1, kt, 0, stride, p, 0, stride, rows, cols, headDim, false);
            for (int r = 0; r < rows; r++) {
                int n = queryStart + i0 + r + 1;
                float max = scaledMax(p, r * stride, n, scale);
                float sum = expRow(p, r * stride, n, cols, scale, max);
                lse[stats + i0 + r] = max + (float) Math.log(sum);
                inv[r] = 1f / sum;
            }
            causalProduct(p, stride, v, vBase, dim, out, oBase + i0 * dim, rows, headDim, queryStart + i0 + 1);
            for (int r = 0; r < rows; r++) {
                scaleRow(out, oBase + (i0 + r) * dim, inv[r], headDim);
            }
        }
    }

    /**
     * Backward of {@link #forwardHead} (training form: queryStart 0, seqQ = seqK = seq) for head h of sequence
     * b. The head's delta entries and its dq, dk, dv columns OVERWRITTEN.
     */
    static void backwardHead(int b, int h, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                             float[] out, int outOff, float[] lse, int lseOff, float[] dOut, int dOutOff,
                             float[] delta, int deltaOff, float[] dq, int dqOff, float[] dk, int dkOff, float[] dv,
                             int dvOff, int seq, int heads, int headDim) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int stride = stride(seq);
        Scratch s = SCRATCH.get();
        float[] kt = s.kt(headDim * stride);
        float[] vt = s.vt(headDim * stride);
        float[] p = s.p(QUERY_BLOCK * stride);
        float[] ds = s.ds(QUERY_BLOCK * stride);
        int base = b * seq * dim + h * headDim;
        int stats = (b * heads + h) * seq;
        transpose(k, kOff + base, dim, seq, headDim, kt, stride);
        transpose(v, vOff + base, dim, seq, headDim, vt, stride);
        for (int i = 0; i < seq; i++) {
            AttentionKernels.attentionDeltaRow(b, h, i, out, outOff, dOut, dOutOff, delta, deltaOff, seq, heads,
                    headDim);
            Arrays.fill(dk, dkOff + base + i * dim, dkOff + base + i * dim + headDim, 0f);
            Arrays.fill(dv, dvOff + base + i * dim, dvOff + base + i * dim + headDim, 0f);
        }
        for (int i0 = 0; i0 < seq; i0 += QUERY_BLOCK) {
            int rows = Math.min(QUERY_BLOCK, seq - i0);
            int blockKeys = i0 + rows;
            int cols = roundUp(blockKeys, 4 * L);
            int rowBase = base + i0 * dim;
            // Scores exactly as the forward computed them, then P = exp(S - lse) and dS = P (dP - delta).
            tile(q, qOff + rowBase, dim, 1, kt, 0, stride, p, 0, stride, rows, cols, headDim, false);
            tile(dOut, dOutOff + rowBase, dim, 1, vt, 0, stride, ds, 0, stride, rows, cols, headDim, false);
            for (int r = 0; r < rows; r++) {
                probabilitiesAndScoreGrads(p, ds, r * stride, i0 + r + 1, cols, scale,
                        lse[lseOff + stats + i0 + r], delta[deltaOff + stats + i0 + r]);
            }
            causalProduct(ds, stride, k, kOff + base, dim, dq, dqOff + rowBase, rows, headDim, i0 + 1);
            for (int r = 0; r < rows; r++) {
                scaleRow(dq, dqOff + rowBase + r * dim, scale, headDim);
            }
            // dv_j += sum_i P_ij dOut_i and dk_j += sum_i dS_ij q_i over the block's queries, j < blockKeys.
            // P and dS are zero above the diagonal, so the diagonal part adds exact zeros.
            tile(p, 0, 1, stride, dOut, dOutOff + rowBase, dim, dv, dvOff + base, dim, blockKeys, headDim, rows,
                    true);
            tile(ds, 0, 1, stride, q, qOff + rowBase, dim, dk, dkOff + base, dim, blockKeys, headDim, rows, true);
        }
        for (int j = 0; j < seq; j++) {
            scaleRow(dk, dkOff + base + j * dim, scale, headDim);
        }
    }

    /**
     * {@code c[i] = sum_{j < firstKeys + i} a[i, j] * b[j]} for the block's rows i (a [rows, aStride], b and c
     * rows of width cols, stride dim), c OVERWRITTEN: row i's chain runs over exactly its own causal keys, so
     * its bits are those of the row computed alone (a decode step).
     */
    private static void causalProduct(float[] a, int aStride, float[] b, int bOff, int dim, float[] c, int cOff,
                                      int rows, int cols, int firstKeys) {
        for (int r0 = 0; r0 < rows; r0 += 4) {
            int group = Math.min(4, rows - r0);
            int n0 = firstKeys + r0;
            tile(a, r0 * aStride, aStride, 1, b, bOff, dim, c, cOff + r0 * dim, dim, group, cols, n0, false);
            for (int t = 1; t < group; t++) {
                tile(a, (r0 + t) * aStride + n0, aStride, 1, b, bOff + n0 * dim, dim, c, cOff + (r0 + t) * dim, dim,
                        1, cols, t, true);
            }
        }
    }

    /**
     * {@code C[r, x] (+)= sum_{t < len} A[r, t] * B[t, x]} for {@code r < rows, x < cols}, with
     * {@code A[r, t] = a[aOff + r aRs + t aCs]}, {@code B[t, x] = b[bOff + t bRs + x]},
     * {@code C[r, x] = c[cOff + r cRs + x]}; C starts from 0 or (accumulate) from its value. Every element is
     * one fma chain over t ascending, computed the same way by a vector lane or the scalar tail, so the
     * result's bits do not depend on the tiling.
     */
    static void tile(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, float[] c, int cOff,
                     int cRs, int rows, int cols, int len, boolean accumulate) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            tileRows4(a, aOff + r * aRs, aRs, aCs, b, bOff, bRs, c, cOff + r * cRs, cRs, cols, len, accumulate);
        }
        for (; r < rows; r++) {
            tileRow(a, aOff + r * aRs, aCs, b, bOff, bRs, c, cOff + r * cRs, cols, len, accumulate);
        }
    }

    private static void tileRows4(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, float[] c,
                                  int cOff, int cRs, int cols, int len, boolean accumulate) {
        int x = 0;
        for (; x + 4 * L <= cols; x += 4 * L) {
            tile4x4(a, aOff, aRs, aCs, b, bOff + x, bRs, c, cOff + x, cRs, len, accumulate);
        }
        for (; x + 2 * L <= cols; x += 2 * L) {
            tile4x2(a, aOff, aRs, aCs, b, bOff + x, bRs, c, cOff + x, cRs, len, accumulate);
        }
        for (; x + L <= cols; x += L) {
            tile4x1(a, aOff, aRs, aCs, b, bOff + x, bRs, c, cOff + x, cRs, len, accumulate);
        }
        for (; x < cols; x++) {
            for (int r = 0; r < 4; r++) {
                scalarElement(a, aOff + r * aRs, aCs, b, bOff + x, bRs, c, cOff + r * cRs + x, len, accumulate);
            }
        }
    }

    private static void tileRow(float[] a, int aOff, int aCs, float[] b, int bOff, int bRs, float[] c, int cOff,
                                int cols, int len, boolean accumulate) {
        int x = 0;
        for (; x + L <= cols; x += L) {
            FloatVector acc = accumulate ? FloatVector.fromArray(SPECIES, c, cOff + x) : FloatVector.zero(SPECIES);
            for (int t = 0; t < len; t++) {
                acc = FloatVector.broadcast(SPECIES, a[aOff + t * aCs])
                        .fma(FloatVector.fromArray(SPECIES, b, bOff + t * bRs + x), acc);
            }
            acc.intoArray(c, cOff + x);
        }
        for (; x < cols; x++) {
            scalarElement(a, aOff, aCs, b, bOff + x, bRs, c, cOff + x, len, accumulate);
        }
    }

    private static void scalarElement(float[] a, int aOff, int aCs, float[] b, int bOff, int bRs, float[] c, int at,
                                      int len, boolean accumulate) {
        float acc = accumulate ? c[at] : 0f;
        for (int t = 0; t < len; t++) {
            acc = Math.fma(a[aOff + t * aCs], b[bOff + t * bRs], acc);
        }
        c[at] = acc;
    }

    /** 4 rows x 4 vectors: 16 accumulators, 4 loads and 4 broadcasts per 16 FMAs. */
    private static void tile4x4(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, float[] c,
                                int cOff, int cRs, int len, boolean accumulate) {
        int c0 = cOff;
        int c1 = c0 + cRs;
        int c2 = c1 + cRs;
        int c3 = c2 + cRs;
        FloatVector acc00 = start(c, c0, accumulate);
        FloatVector acc01 = start(c, c0 + L, accumulate);
        FloatVector acc02 = start(c, c0 + 2 * L, accumulate);
        FloatVector acc03 = start(c, c0 + 3 * L, accumulate);
        FloatVector acc10 = start(c, c1, accumulate);
        FloatVector acc11 = start(c, c1 + L, accumulate);
        FloatVector acc12 = start(c, c1 + 2 * L, accumulate);
        FloatVector acc13 = start(c, c1 + 3 * L, accumulate);
        FloatVector acc20 = start(c, c2, accumulate);
        FloatVector acc21 = start(c, c2 + L, accumulate);
        FloatVector acc22 = start(c, c2 + 2 * L, accumulate);
        FloatVector acc23 = start(c, c2 + 3 * L, accumulate);
        FloatVector acc30 = start(c, c3, accumulate);
        FloatVector acc31 = start(c, c3 + L, accumulate);
        FloatVector acc32 = start(c, c3 + 2 * L, accumulate);
        FloatVector acc33 = start(c, c3 + 3 * L, accumulate);
        for (int t = 0; t < len; t++) {
            int bt = bOff + t * bRs;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bt);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bt + L);
            FloatVector b2 = FloatVector.fromArray(SPECIES, b, bt + 2 * L);
            FloatVector b3 = FloatVector.fromArray(SPECIES, b, bt + 3 * L);
            int at = aOff + t * aCs;
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[at]);
            acc00 = a0.fma(b0, acc00);
            acc01 = a0.fma(b1, acc01);
            acc02 = a0.fma(b2, acc02);
            acc03 = a0.fma(b3, acc03);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[at + aRs]);
            acc10 = a1.fma(b0, acc10);
            acc11 = a1.fma(b1, acc11);
            acc12 = a1.fma(b2, acc12);
            acc13 = a1.fma(b3, acc13);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[at + 2 * aRs]);
            acc20 = a2.fma(b0, acc20);
            acc21 = a2.fma(b1, acc21);
            acc22 = a2.fma(b2, acc22);
            acc23 = a2.fma(b3, acc23);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[at + 3 * aRs]);
            acc30 = a3.fma(b0, acc30);
            acc31 = a3.fma(b1, acc31);
            acc32 = a3.fma(b2, acc32);
            acc33 = a3.fma(b3, acc33);
        }
        acc00.intoArray(c, c0);
        acc01.intoArray(c, c0 + L);
        acc02.intoArray(c, c0 + 2 * L);
        acc03.intoArray(c, c0 + 3 * L);
        acc10.intoArray(c, c1);
        acc11.intoArray(c, c1 + L);
        acc12.intoArray(c, c1 + 2 * L);
        acc13.intoArray(c, c1 + 3 * L);
        acc20.intoArray(c, c2);
        acc21.intoArray(c, c2 + L);
        acc22.intoArray(c, c2 + 2 * L);
        acc23.intoArray(c, c2 + 3 * L);
        acc30.intoArray(c, c3);
        acc31.intoArray(c, c3 + L);
        acc32.intoArray(c, c3 + 2 * L);
        acc33.intoArray(c, c3 + 3 * L);
    }

    /** 4 rows x 2 vectors: hd 32 (the quick preset), and the rest of widths that are not a multiple of 4. */
    private static void tile4x2(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, float[] c,
                                int cOff, int cRs, int len, boolean accumulate) {
        FloatVector acc00 = start(c, cOff, accumulate);
        FloatVector acc01 = start(c, cOff + L, accumulate);
        FloatVector acc10 = start(c, cOff + cRs, accumulate);
        FloatVector acc11 = start(c, cOff + cRs + L, accumulate);
        FloatVector acc20 = start(c, cOff + 2 * cRs, accumulate);
        FloatVector acc21 = start(c, cOff + 2 * cRs + L, accumulate);
        FloatVector acc30 = start(c, cOff + 3 * cRs, accumulate);
        FloatVector acc31 = start(c, cOff + 3 * cRs + L, accumulate);
        for (int t = 0; t < len; t++) {
            int bt = bOff + t * bRs;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bt);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bt + L);
            int at = aOff + t * aCs;
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[at]);
            acc00 = a0.fma(b0, acc00);
            acc01 = a0.fma(b1, acc01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[at + aRs]);
            acc10 = a1.fma(b0, acc10);
            acc11 = a1.fma(b1, acc11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[at + 2 * aRs]);
            acc20 = a2.fma(b0, acc20);
            acc21 = a2.fma(b1, acc21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[at + 3 * aRs]);
            acc30 = a3.fma(b0, acc30);
            acc31 = a3.fma(b1, acc31);
        }
        acc00.intoArray(c, cOff);
        acc01.intoArray(c, cOff + L);
        acc10.intoArray(c, cOff + cRs);
        acc11.intoArray(c, cOff + cRs + L);
        acc20.intoArray(c, cOff + 2 * cRs);
        acc21.intoArray(c, cOff + 2 * cRs + L);
        acc30.intoArray(c, cOff + 3 * cRs);
        acc31.intoArray(c, cOff + 3 * cRs + L);
    }

    /** 4 rows x 1 vector, for the last vector of widths that are an odd number of vectors (hd 16, 48). */
    private static void tile4x1(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, float[] c,
                                int cOff, int cRs, int len, boolean accumulate) {
        FloatVector acc0 = start(c, cOff, accumulate);
        FloatVector acc1 = start(c, cOff + cRs, accumulate);
        FloatVector acc2 = start(c, cOff + 2 * cRs, accumulate);
        FloatVector acc3 = start(c, cOff + 3 * cRs, accumulate);
        for (int t = 0; t < len; t++) {
            FloatVector bt = FloatVector.fromArray(SPECIES, b, bOff + t * bRs);
            int at = aOff + t * aCs;
            acc0 = FloatVector.broadcast(SPECIES, a[at]).fma(bt, acc0);
            acc1 = FloatVector.broadcast(SPECIES, a[at + aRs]).fma(bt, acc1);
            acc2 = FloatVector.broadcast(SPECIES, a[at + 2 * aRs]).fma(bt, acc2);
            acc3 = FloatVector.broadcast(SPECIES, a[at + 3 * aRs]).fma(bt, acc3);
        }
        acc0.intoArray(c, cOff);
        acc1.intoArray(c, cOff + cRs);
        acc2.intoArray(c, cOff + 2 * cRs);
        acc3.intoArray(c, cOff + 3 * cRs);
    }

    private static FloatVector start(float[] c, int at, boolean accumulate) {
        return accumulate ? FloatVector.fromArray(SPECIES, c, at) : FloatVector.zero(SPECIES);
    }

    /** max over {@code j < n} of {@code p[off + j] * scale}. */
    private static float scaledMax(float[] p, int off, int n, float scale) {
        int j = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector m = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (; j + L <= n; j += L) {
                m = m.max(FloatVector.fromArray(SPECIES, p, off + j).mul(scale));
            }
            max = VectorMath.maxLanes(m);
        }
        for (; j < n; j++) {
            max = Math.max(max, p[off + j] * scale);
        }
        return max;
    }

    /**
     * {@code p_j = exp(p_j scale - max)} for {@code j < n}, 0 for {@code n <= j < cols}; returns the sum of
     * the {@code p_j} (lane partial sums in a fixed tree, then the tail in order: fixed by n alone).
     */
    private static float expRow(float[] p, int off, int n, int cols, float scale, float max) {
        int j = 0;
        float sum = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; j + L <= n; j += L) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(SPECIES, p, off + j).mul(scale).sub(max));
                e.intoArray(p, off + j);
                acc = acc.add(e);
            }
            sum = VectorMath.sumLanes(acc);
        }
        for (; j < n; j++) {
            float e = VectorMath.exp(p[off + j] * scale - max);
            p[off + j] = e;
            sum += e;
        }
        for (; j < cols; j++) {
            p[off + j] = 0f;
        }
        return sum;
    }

    /**
     * Backward row: {@code p_j = exp(s_j scale - lse)}, {@code ds_j = p_j (dp_j - delta)} for {@code j < n}
     * (p holds the scores, ds the dP row on entry); both 0 for {@code n <= j < cols}.
     */
    private static void probabilitiesAndScoreGrads(float[] p, float[] ds, int off, int n, int cols, float scale,
                                                   float lse, float delta) {
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(SPECIES, p, off + j).mul(scale).sub(lse));
            e.intoArray(p, off + j);
            e.mul(FloatVector.fromArray(SPECIES, ds, off + j).sub(delta)).intoArray(ds, off + j);
        }
        for (; j < n; j++) {
            float e = VectorMath.exp(p[off + j] * scale - lse);
            p[off + j] = e;
            ds[off + j] = e * (ds[off + j] - delta);
        }
        for (; j < cols; j++) {
            p[off + j] = 0f;
            ds[off + j] = 0f;
        }
    }

    /** {@code t[c * stride + j] = x[base + j * dim + c]} for {@code j < keys}, 0 up to stride. */
    private static void transpose(float[] x, int base, int dim, int keys, int headDim, float[] t, int stride) {
        for (int j = 0; j < keys; j++) {
            int row = base + j * dim;
            for (int c = 0; c < headDim; c++) {
                t[c * stride + j] = x[row + c];
            }
        }
        for (int c = 0; c < headDim; c++) {
            Arrays.fill(t, c * stride + keys, (c + 1) * stride, 0f);
        }
    }

    private static void scaleRow(float[] y, int off, float factor, int n) {
        int d = 0;
        for (; d + L <= n; d += L) {
            FloatVector.fromArray(SPECIES, y, off + d).mul(factor).intoArray(y, off + d);
        }
        for (; d < n; d++) {
            y[off + d] = y[off + d] * factor;
        }
    }

    /**
     * Row stride of the transposed keys and the score blocks: whole 4-vector tiles plus one vector, so rows
     * are not a multiple of 4 KiB apart (stores there falsely alias the loads in flight; cf. VectorGemm.PAD).
     */
    private static int stride(int keys) {
        return roundUp(keys, 4 * L) + L;
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /** Per-thread buffers, grown on demand and kept (worker threads live as long as the backend). */
    private static final class Scratch {
        private float[] kt = new float[0];
        private float[] vt = new float[0];
        private float[] p = new float[0];
        private float[] ds = new float[0];
        private final float[] inv = new float[QUERY_BLOCK];

        float[] kt(int n) {
            return kt = atLeast(kt, n);
        }

        float[] vt(int n) {
            return vt = atLeast(vt, n);
        }

        float[] p(int n) {
            return p = atLeast(p, n);
        }

        float[] ds(int n) {
            return ds = atLeast(ds, n);
        }

        float[] inv() {
            return inv;
        }

        private static float[] atLeast(float[] buffer, int n) {
            return buffer.length >= n ? buffer : new float[n];
        }
    }
}
