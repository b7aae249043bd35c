package flexmoe.kernels.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The attention bodies of {@link flexmoe.kernels.AttentionKernels} with their hd-long dot products and
 * axpys on the Vector API: attention is the one O(S^2) kernel, and JDK 25 neither vectorises the float dot
 * (it may not reorder the sum) nor the two-array axpy (measured ~4x and ~2.5x at hd = 64). Same shapes,
 * same loop structure, same overwrite convention; results differ from the plain bodies only by rounding
 * (lane-wise partial sums, fused multiply-adds), which AttentionTest bounds.
 *
 * <p>Deterministic for a given machine: every output row is computed by one call in a fixed order, so the
 * thread count never changes a bit. (The preferred vector width is the machine's, so a machine with other
 * vector units may round differently.)
 */
final class JvmAttention {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /**
     * Lane permutations {@code i -> i ^ 2^s}, widest first, for {@link #sumLanes}. reduceLanes(ADD) is not
     * used: its float order is unspecified and differs between the C2 intrinsic and the interpreter's
     * fallback, so a row's bits would depend on whether it ran before or after JIT compilation.
     */
    private static final VectorShuffle<Float>[] HALVES = halves();

    private JvmAttention() {
    }

    /** As {@link flexmoe.kernels.AttentionKernels#attentionRow}. */
    static void attentionRow(int b, int h, int i, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                             float[] out, int outOff, float[] lse, int lseOff, int seqQ, int seqK, int heads,
                             int headDim, int queryStart) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int qi = qOff + (b * seqQ + i) * dim + h * headDim;
        int oi = outOff + (b * seqQ + i) * dim + h * headDim;
        int kb = kOff + b * seqK * dim + h * headDim;
        int vb = vOff + b * seqK * dim + h * headDim;
        int keys = Math.min(queryStart + i + 1, seqK);
        fill(out, oi, 0f, headDim);
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int j = 0; j < keys; j++) {
            float s = dot(q, qi, k, kb + j * dim, headDim) * scale;
            if (s > max) {
                float c = (float) Math.exp(max - s);
                sum *= c;
                scale(out, oi, c, headDim);
                max = s;
            }
            float p = (float) Math.exp(s - max);
            sum += p;
            axpy(out, oi, p, v, vb + j * dim, headDim);
        }
        scale(out, oi, 1f / sum, headDim);
        lse[lseOff + (b * heads + h) * seqQ + i] = max + (float) Math.log(sum);
    }

    /** As {@link flexmoe.kernels.AttentionKernels#attentionBackwardQueryRow}. */
    static void backwardQueryRow(int b, int h, int i, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                                 float[] lse, int lseOff, float[] dOut, int dOutOff, float[] delta, int deltaOff,
                                 float[] dq, int dqOff, int seq, int heads, int headDim) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int row = (b * seq + i) * dim + h * headDim;
        int kb = kOff + b * seq * dim + h * headDim;
        int vb = vOff + b * seq * dim + h * headDim;
        int stat = (b * heads + h) * seq + i;
        float l = lse[lseOff + stat];
        float di = delta[deltaOff + stat];
        int out = dqOff + row;
        fill(dq, out, 0f, headDim);
        for (int j = 0; j <= i; j++) {
            float p = (float) Math.exp(dot(q, qOff + row, k, kb + j * dim, headDim) * scale - l);
            float ds = p * (dot(dOut, dOutOff + row, v, vb + j * dim, headDim) - di);
            axpy(dq, out, ds, k, kb + j * dim, headDim);
        }
        scale(dq, out, scale, headDim);
    }

    /** As {@link flexmoe.kernels.AttentionKernels#attentionBackwardKeyRow}. */
    static void backwardKeyRow(int b, int h, int j, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                               float[] lse, int lseOff, float[] dOut, int dOutOff, float[] delta, int deltaOff,
                               float[] dk, int dkOff, float[] dv, int dvOff, int seq, int heads, int headDim) {
        int dim = heads * headDim;
        float scale = 1f / (float) Math.sqrt(headDim);
        int row = (b * seq + j) * dim + h * headDim;
        int seqBase = b * seq * dim + h * headDim;
        int stats = (b * heads + h) * seq;
        int ko = dkOff + row;
        int vo = dvOff + row;
        fill(dk, ko, 0f, headDim);
        fill(dv, vo, 0f, headDim);
        for (int i = j; i < seq; i++) {
            int qi = seqBase + i * dim;
            // Same argument order as the forward's dot, so the recomputed score has the forward's bits.
            float p = (float) Math.exp(dot(q, qOff + qi, k, kOff + row, headDim) * scale - lse[lseOff + stats + i]);
            float ds = p * (dot(dOut, dOutOff + qi, v, vOff + row, headDim) - delta[deltaOff + stats + i]);
            axpy(dv, vo, p, dOut, dOutOff + qi, headDim);
            axpy(dk, ko, ds, q, qOff + qi, headDim);
        }
        scale(dk, ko, scale, headDim);
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = SPECIES.loopBound(n);
        int d = 0;
        float s = 0f;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; d < bound; d += SPECIES.length()) {
                acc = FloatVector.fromArray(SPECIES, a, aOff + d).fma(FloatVector.fromArray(SPECIES, b, bOff + d), acc);
            }
            s = sumLanes(acc);
        }
        for (; d < n; d++) {
            s += a[aOff + d] * b[bOff + d];
        }
        return s;
    }

    /** Sum of the lanes in a fixed pairwise tree: lane-wise adds and data moves only, so every mode agrees. */
    private static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> half : HALVES) {
            v = v.add(v.rearrange(half));
        }
        return v.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves() {
        int steps = Integer.numberOfTrailingZeros(SPECIES.length());
        VectorShuffle<Float>[] shuffles = (VectorShuffle<Float>[]) new VectorShuffle<?>[steps];
        for (int s = 0; s < steps; s++) {
            int offset = SPECIES.length() >> (s + 1);
            shuffles[s] = VectorShuffle.fromOp(SPECIES, i -> i ^ offset);
        }
        return shuffles;
    }

    /** {@code y[0, n) += p * x[0, n)}. */
    private static void axpy(float[] y, int yOff, float p, float[] x, int xOff, int n) {
        int bound = SPECIES.loopBound(n);
        int d = 0;
        if (bound > 0) {
            FloatVector pv = FloatVector.broadcast(SPECIES, p);
            for (; d < bound; d += SPECIES.length()) {
                FloatVector.fromArray(SPECIES, x, xOff + d).fma(pv, FloatVector.fromArray(SPECIES, y, yOff + d))
                        .intoArray(y, yOff + d);
            }
        }
        for (; d < n; d++) {
            y[yOff + d] = y[yOff + d] + p * x[xOff + d];
        }
    }

    private static void scale(float[] y, int yOff, float c, int n) {
        for (int d = 0; d < n; d++) {
            y[yOff + d] = y[yOff + d] * c;
        }
    }

    private static void fill(float[] y, int yOff, float value, int n) {
        for (int d = 0; d < n; d++) {
            y[yOff + d] = value;
        }
    }
}
