package flexmoe.kernels;

import static flexmoe.kernels.TransformerTesting.assertRejected;
import static flexmoe.kernels.TransformerTesting.padded;
import static flexmoe.kernels.TransformerTesting.slice;
import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.dot;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Causal multi-head attention forward/backward against float64 references and finite differences. */
class AttentionTest {

    /** {batch, seq, heads, headDim}: S = 1, H = 1, hd = 1, odd sizes, not multiples of 16. */
    private static final int[][] SHAPES = {
        {1, 1, 1, 1}, {1, 1, 2, 3}, {2, 5, 3, 4}, {1, 17, 2, 6}, {3, 7, 1, 5}, {1, 4, 1, 16},
    };

    /** float64 causal attention: out [B*S*D] followed by lse [B*H*S]. */
    static double[] reference(double[] q, double[] k, double[] v, int batch, int seq, int heads, int headDim) {
        int dim = heads * headDim;
        double[] r = new double[batch * seq * dim + batch * heads * seq];
        double scale = 1 / Math.sqrt(headDim);
        double[] s = new double[seq];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    int qi = (b * seq + i) * dim + h * headDim;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        int kj = (b * seq + j) * dim + h * headDim;
                        double dotp = 0;
                        for (int d = 0; d < headDim; d++) {
                            dotp += q[qi + d] * k[kj + d];
                        }
                        s[j] = dotp * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        sum += Math.exp(s[j] - max);
                    }
                    for (int j = 0; j <= i; j++) {
                        double p = Math.exp(s[j] - max) / sum;
                        int vj = (b * seq + j) * dim + h * headDim;
                        for (int d = 0; d < headDim; d++) {
                            r[qi + d] += p * v[vj + d];
                        }
                    }
                    r[batch * seq * dim + (b * heads + h) * seq + i] = max + Math.log(sum);
                }
            }
        }
        return r;
    }

    static double[] out(double[] q, double[] k, double[] v, int[] s) {
        return Arrays.copyOf(reference(q, k, v, s[0], s[1], s[2], s[3]), s[0] * s[1] * s[2] * s[3]);
    }

    @Test
    void forwardMatchesFloat64Reference() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (double range : new double[] {1, 6}) {
                for (int[] s : SHAPES) {
                    int batch = s[0], seq = s[1], heads = s[2], headDim = s[3], dim = heads * headDim;
                    int n = batch * seq * dim, stats = batch * heads * seq;
                    float[] q = padded(uniform(rng, n, range), 1);
                    float[] k = padded(uniform(rng, n, range), 2);
                    float[] v = padded(uniform(rng, n, 1), 3);
                    float[] out = poisoned(4 + n), lse = poisoned(5 + stats);
                    backend.transformer().attentionForward(q, 1, k, 2, v, 3, out, 4, lse, 5, batch, seq, dim, heads);
                    double[] expected = reference(slice(q, 1, n), slice(k, 2, n), slice(v, 3, n), batch, seq, heads,
                            headDim);
                    String what = "range " + range + " " + Arrays.toString(s);
                    assertClose("out " + what, out, 4, expected, 0, n, 1e-5, 1e-4);
                    assertClose("lse " + what, lse, 5, expected, n, stats, 1e-5, 1e-5);
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesForQKAndV() {
        SplittableRandom rng = new SplittableRandom(2);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int batch = s[0], seq = s[1], heads = s[2], headDim = s[3], dim = heads * headDim;
                int n = batch * seq * dim, stats = batch * heads * seq;
                float[] q = padded(uniform(rng, n, 1.5), 1);
                float[] k = padded(uniform(rng, n, 1.5), 2);
                float[] v = padded(uniform(rng, n, 1), 3);
                float[] out = poisoned(n), lse = poisoned(1 + stats);
                TransformerOps ops = backend.transformer();
                ops.attentionForward(q, 1, k, 2, v, 3, out, 0, lse, 1, batch, seq, dim, heads);
                float[] dOut = padded(uniform(rng, n, 1), 2);
                float[] delta = poisoned(3 + stats);
                float[] dq = poisoned(1 + n), dk = poisoned(2 + n), dv = poisoned(3 + n);
                ops.attentionBackward(q, 1, k, 2, v, 3, out, 0, lse, 1, dOut, 2, delta, 3, dq, 1, dk, 2, dv, 3,
                        batch, seq, dim, heads);

                double[] qd = slice(q, 1, n), kd = slice(k, 2, n), vd = slice(v, 3, n), g = slice(dOut, 2, n);
                String what = Arrays.toString(s);
                assertClose("dq " + what, dq, 1, centralDifference(x -> dot(out(x, kd, vd, s), g), qd, 1e-6), 0, n,
                        2e-5, 1e-4);
                assertClose("dk " + what, dk, 2, centralDifference(x -> dot(out(qd, x, vd, s), g), kd, 1e-6), 0, n,
                        2e-5, 1e-4);
                assertClose("dv " + what, dv, 3, centralDifference(x -> dot(out(qd, kd, x, s), g), vd, 1e-6), 0, n,
                        2e-5, 1e-4);
            }
        }
    }

    @Test
    void changingAFutureKeyOrValueLeavesEarlierOutputsAndOtherSequencesUnchanged() {
        SplittableRandom rng = new SplittableRandom(3);
        int batch = 2, seq = 9, heads = 2, headDim = 4, dim = heads * headDim, n = batch * seq * dim, future = 5;
        float[] q = uniform(rng, n, 1), k = uniform(rng, n, 1), v = uniform(rng, n, 1);
        try (Backend backend = Backends.create("jvm", 1)) {
            float[] before = poisoned(n), lse = poisoned(batch * heads * seq);
            backend.transformer().attentionForward(q, 0, k, 0, v, 0, before, 0, lse, 0, batch, seq, dim, heads);
            int row = (seq + future) * dim; // sequence 1, position 5
            for (int c = 0; c < dim; c++) {
                k[row + c] += 0.5f;
                v[row + c] -= 0.75f;
            }
            float[] after = poisoned(n);
            backend.transformer().attentionForward(q, 0, k, 0, v, 0, after, 0, lse, 0, batch, seq, dim, heads);
            int unchanged = (seq + future) * dim; // all of sequence 0, and sequence 1 before position 5
            assertBitsEqual("outputs before the changed position", Arrays.copyOf(after, unchanged),
                    Arrays.copyOf(before, unchanged));
            for (int i = future; i < seq; i++) {
                int r = (seq + i) * dim;
                assertThat(Arrays.copyOfRange(after, r, r + dim)).as("row %d sees the change", i)
                        .isNotEqualTo(Arrays.copyOfRange(before, r, r + dim));
            }
        }
    }

    @Test
    void queryOffsetBodyReproducesTheLastRowsFromAPartlyFilledKeyCache() {
        // KV-cache generation: the new tokens' queries at positions start..start+m-1 against a cache of capacity
        // seqK whose rows past the filled ones hold garbage (NaN) that must never be read.
        SplittableRandom rng = new SplittableRandom(4);
        int batch = 2, seq = 12, heads = 3, headDim = 5, dim = heads * headDim, n = batch * seq * dim;
        int m = 4, start = seq - m, capacity = 16;
        float[] q = uniform(rng, n, 1), k = uniform(rng, n, 1), v = uniform(rng, n, 1);
        float[] full = poisoned(n), lse = poisoned(batch * heads * seq);
        plainForward(q, k, v, full, lse, batch, seq, heads, headDim);
        float[] qNew = new float[batch * m * dim];
        float[] kCache = poisoned(batch * capacity * dim), vCache = poisoned(batch * capacity * dim);
        for (int b = 0; b < batch; b++) {
            System.arraycopy(q, (b * seq + start) * dim, qNew, b * m * dim, m * dim);
            System.arraycopy(k, b * seq * dim, kCache, b * capacity * dim, seq * dim);
            System.arraycopy(v, b * seq * dim, vCache, b * capacity * dim, seq * dim);
        }
        float[] out = poisoned(batch * m * dim), lseNew = poisoned(batch * heads * m);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < m; i++) {
                    AttentionKernels.attentionRow(b, h, i, qNew, 0, kCache, 0, vCache, 0, out, 0, lseNew, 0, m,
                            capacity, heads, headDim, new int[] {start});
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            assertBitsEqual("sequence " + b, Arrays.copyOfRange(out, b * m * dim, (b + 1) * m * dim),
                    Arrays.copyOfRange(full, (b * seq + start) * dim, (b * seq + seq) * dim));
            for (int h = 0; h < heads; h++) {
                int from = (b * heads + h) * seq + start;
                assertBitsEqual("lse " + b + "," + h,
                        Arrays.copyOfRange(lseNew, (b * heads + h) * m, (b * heads + h + 1) * m),
                        Arrays.copyOfRange(lse, from, from + m));
            }
        }
    }

    @Test
    void decodeOpGivesTheTrainingForwardsRowsBitForBit() {
        // Each backend's decode against its own training forward: the same row code on the same keys, so the
        // same bits (plain bodies on the reference, the Vector API rows on the JVM backend). Cache rows past
        // the filled ones are NaN and must never be read; hd 5 and 20 leave scalar tails on every vector width.
        SplittableRandom rng = new SplittableRandom(8);
        // {1, 140, 2, 64}: longer than one 64-query block of the JVM backend, decoded in chunks whose blocks
        // start elsewhere than the training forward's.
        int[][] shapes = {{2, 12, 3, 5}, {1, 19, 2, 20}, {1, 140, 2, 64}};
        for (String name : new String[] {"reference", "jvm"}) {
            try (Backend backend = Backends.create(name, 2)) {
                TransformerOps ops = backend.transformer();
                for (int[] s : shapes) {
                    int batch = s[0], seq = s[1], heads = s[2], headDim = s[3], dim = heads * headDim;
                    int n = batch * seq * dim, capacity = seq + 4;
                    float[] q = uniform(rng, n, 2), k = uniform(rng, n, 2), v = uniform(rng, n, 1);
                    float[] full = poisoned(n), lse = poisoned(batch * heads * seq);
                    ops.attentionForward(q, 0, k, 0, v, 0, full, 0, lse, 0, batch, seq, dim, heads);
                    float[] kCache = poisoned(1 + batch * capacity * dim), vCache = poisoned(2 + batch * capacity * dim);
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(k, b * seq * dim, kCache, 1 + b * capacity * dim, seq * dim);
                        System.arraycopy(v, b * seq * dim, vCache, 2 + b * capacity * dim, seq * dim);
                    }
                    // {start, queries}: prefill, chunks in the middle, the last token alone.
                    int[][] steps = {{0, seq}, {4, 3}, {seq / 3, seq / 2}, {seq - 1, 1}};
                    for (int[] step : steps) {
                        int start = step[0], m = step[1];
                        float[] qNew = new float[3 + batch * m * dim];
                        for (int b = 0; b < batch; b++) {
                            System.arraycopy(q, (b * seq + start) * dim, qNew, 3 + b * m * dim, m * dim);
                        }
                        float[] out = poisoned(4 + batch * m * dim), lseNew = poisoned(5 + batch * heads * m);
                        ops.attentionDecode(qNew, 3, kCache, 1, vCache, 2, out, 4, lseNew, 5, batch, m, capacity, dim,
                                heads, start);
                        String what = name + " " + Arrays.toString(s) + " start " + start + " queries " + m;
                        for (int b = 0; b < batch; b++) {
                            assertBitsEqual("out " + what + " sequence " + b,
                                    Arrays.copyOfRange(out, 4 + b * m * dim, 4 + (b + 1) * m * dim),
                                    Arrays.copyOfRange(full, (b * seq + start) * dim, (b * seq + start + m) * dim));
                            for (int h = 0; h < heads; h++) {
                                int from = (b * heads + h) * seq + start, at = 5 + (b * heads + h) * m;
                                assertBitsEqual("lse " + what + " " + b + "," + h,
                                        Arrays.copyOfRange(lseNew, at, at + m),
                                        Arrays.copyOfRange(lse, from, from + m));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void decodeRejectsBadArgumentsBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            // batch 2, 3 queries, cache of 5 keys, dim 4, heads 2: q/out 24, cache 40, lse 12
            float[] q = new float[24], k = new float[40], v = new float[40];
            float[] out = poisoned(24), lse = poisoned(12);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, v, 0, out, 0, lse, 0, 2, 3, 5, 4, 2, 3),
                    "attentionDecode: queryStart 3 + queries 3 exceeds keys 5 (the new tokens' keys must be in the"
                            + " cache)", out, lse);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, v, 0, out, 0, lse, 0, 2, 3, 5, 4, 2, -1),
                    "attentionDecode: queryStart must be non-negative, got -1", out, lse);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, v, 0, out, 0, lse, 0, 2, 0, 5, 4, 2, 0),
                    "attentionDecode: queries must be at least 1, got 0", out, lse);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, new float[39], 0, out, 0, lse, 0, 2, 3, 5, 4, 2, 2),
                    "attentionDecode: vCache too short: need 40 elements from offset 0, has 39", out, lse);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, v, 0, out, 0, new float[11], 0, 2, 3, 5, 4, 2, 2),
                    "attentionDecode: lse too short: need 12 elements from offset 0, has 11", out);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, v, 0, k, 10, lse, 0, 2, 3, 5, 4, 2, 2),
                    "attentionDecode: out overlaps kCache", lse);
            assertRejected(() -> ops.attentionDecode(q, 0, k, 0, v, 0, out, 0, lse, 0, 2, 3, 5, 6, 4, 2),
                    "attentionDecode: dim 6 is not divisible by heads 4", out, lse);
        }
    }

    /** The plain bodies, one call per row, as a TornadoVM launcher would run them. */
    static void plainForward(float[] q, float[] k, float[] v, float[] out, float[] lse, int batch, int seq, int heads,
                             int headDim) {
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    AttentionKernels.attentionRow(b, h, i, q, 0, k, 0, v, 0, out, 0, lse, 0, seq, seq, heads, headDim,
                            new int[] {0});
                }
            }
        }
    }

    @Test
    void jvmVectorPathMatchesThePlainBodies() {
        SplittableRandom rng = new SplittableRandom(6);
        // hd below, at, between and above vector widths (4, 8, 16 lanes) so both the vector loops and the
        // scalar tails run; sequences longer than one block of queries (64) and not a multiple of it.
        int[][] shapes = {{1, 3, 2, 1}, {2, 9, 1, 7}, {1, 20, 2, 16}, {2, 33, 2, 20}, {1, 40, 1, 64}, {1, 11, 2, 67},
            {1, 150, 2, 64}, {2, 129, 1, 32}, {1, 70, 1, 13}};
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : shapes) {
                int batch = s[0], seq = s[1], heads = s[2], headDim = s[3], dim = heads * headDim;
                int n = batch * seq * dim, stats = batch * heads * seq;
                float[] q = uniform(rng, n, 2), k = uniform(rng, n, 2), v = uniform(rng, n, 1);
                float[] dOut = uniform(rng, n, 1);
                float[] out = poisoned(n), lse = poisoned(stats), delta = poisoned(stats);
                float[] dq = poisoned(n), dk = poisoned(n), dv = poisoned(n);
                TransformerOps ops = backend.transformer();
                ops.attentionForward(q, 0, k, 0, v, 0, out, 0, lse, 0, batch, seq, dim, heads);
                ops.attentionBackward(q, 0, k, 0, v, 0, out, 0, lse, 0, dOut, 0, delta, 0, dq, 0, dk, 0, dv, 0,
                        batch, seq, dim, heads);

                float[] pOut = poisoned(n), pLse = poisoned(stats), pDelta = poisoned(stats);
                float[] pDq = poisoned(n), pDk = poisoned(n), pDv = poisoned(n);
                plainForward(q, k, v, pOut, pLse, batch, seq, heads, headDim);
                for (int b = 0; b < batch; b++) {
                    for (int h = 0; h < heads; h++) {
                        for (int i = 0; i < seq; i++) {
                            AttentionKernels.attentionDeltaRow(b, h, i, pOut, 0, dOut, 0, pDelta, 0, seq, heads,
                                    headDim);
                        }
                        for (int i = 0; i < seq; i++) {
                            AttentionKernels.attentionBackwardQueryRow(b, h, i, q, 0, k, 0, v, 0, pLse, 0, dOut, 0,
                                    pDelta, 0, pDq, 0, seq, heads, headDim);
                            AttentionKernels.attentionBackwardKeyRow(b, h, i, q, 0, k, 0, v, 0, pLse, 0, dOut, 0,
                                    pDelta, 0, pDk, 0, pDv, 0, seq, heads, headDim);
                        }
                    }
                }
                String what = Arrays.toString(s);
                assertClose("out " + what, out, pOut, 2e-6, 1e-5);
                assertClose("lse " + what, lse, pLse, 2e-6, 1e-5);
                assertClose("dq " + what, dq, pDq, 2e-6, 1e-4);
                assertClose("dk " + what, dk, pDk, 2e-6, 1e-4);
                assertClose("dv " + what, dv, pDv, 2e-6, 1e-4);
            }
        }
    }

    @Test
    void sameBitsBeforeAndAfterJitCompilation() {
        // The first call runs (partly) interpreted, later ones JIT-compiled: a reduction whose order depends on
        // the compilation mode (Vector API reduceLanes) would change the bits here.
        SplittableRandom rng = new SplittableRandom(7);
        int batch = 1, seq = 24, heads = 2, headDim = 64, dim = heads * headDim, n = batch * seq * dim;
        int stats = batch * heads * seq;
        float[] q = uniform(rng, n, 1), k = uniform(rng, n, 1), v = uniform(rng, n, 1), dOut = uniform(rng, n, 1);
        float[] first = null;
        try (Backend backend = Backends.create("jvm", 1)) {
            for (int call = 0; call < 300; call++) {
                float[] out = poisoned(n), lse = poisoned(stats), delta = poisoned(stats);
                float[] dq = poisoned(n), dk = poisoned(n), dv = poisoned(n);
                TransformerOps ops = backend.transformer();
                ops.attentionForward(q, 0, k, 0, v, 0, out, 0, lse, 0, batch, seq, dim, heads);
                ops.attentionBackward(q, 0, k, 0, v, 0, out, 0, lse, 0, dOut, 0, delta, 0, dq, 0, dk, 0, dv, 0,
                        batch, seq, dim, heads);
                float[] all = new float[4 * n + 2 * stats];
                int at = 0;
                for (float[] a : new float[][] {out, lse, delta, dq, dk, dv}) {
                    System.arraycopy(a, 0, all, at, a.length);
                    at += a.length;
                }
                if (first == null) {
                    first = all;
                } else if (call % 50 == 49) {
                    assertBitsEqual("call " + call + " vs first call", all, first);
                }
            }
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(5);
        int batch = 2, seq = 130, heads = 3, headDim = 16, dim = heads * headDim;
        int n = batch * seq * dim, stats = batch * heads * seq;
        float[] q = uniform(rng, n, 1), k = uniform(rng, n, 1), v = uniform(rng, n, 1), dOut = uniform(rng, n, 1);
        float[][] results = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            float[] out = poisoned(n), lse = poisoned(stats), delta = poisoned(stats);
            float[] dq = poisoned(n), dk = poisoned(n), dv = poisoned(n);
            try (Backend backend = Backends.create("jvm", threads)) {
                TransformerOps ops = backend.transformer();
                ops.attentionForward(q, 0, k, 0, v, 0, out, 0, lse, 0, batch, seq, dim, heads);
                ops.attentionBackward(q, 0, k, 0, v, 0, out, 0, lse, 0, dOut, 0, delta, 0, dq, 0, dk, 0, dv, 0,
                        batch, seq, dim, heads);
            }
            float[] all = new float[4 * n + 2 * stats];
            int at = 0;
            for (float[] a : new float[][] {out, lse, delta, dq, dk, dv}) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            results[threads - 1] = all;
        }
        assertBitsEqual("attention out|lse|delta|dq|dk|dv", results[1], results[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            // batch 2, seq 3, dim 4, heads 2: 24 elements, 12 statistics
            float[] q = new float[24], k = new float[24], v = new float[24];
            float[] out = poisoned(24), lse = poisoned(12);
            assertRejected(() -> ops.attentionForward(q, 0, k, 0, v, 0, out, 0, lse, 0, 2, 3, 4, 3),
                    "attentionForward: dim 4 is not divisible by heads 3", out, lse);
            assertRejected(() -> ops.attentionForward(q, 0, k, 0, v, 0, out, 0, lse, 0, 2, 0, 4, 2),
                    "attentionForward: seq must be at least 1, got 0", out, lse);
            assertRejected(() -> ops.attentionForward(q, 0, k, 1, v, 0, out, 0, lse, 0, 2, 3, 4, 2),
                    "attentionForward: k too short: need 24 elements from offset 1, has 24", out, lse);
            assertRejected(() -> ops.attentionForward(q, 0, k, 0, v, 0, out, 0, new float[11], 0, 2, 3, 4, 2),
                    "attentionForward: lse too short: need 12 elements from offset 0, has 11", out);
            assertRejected(() -> ops.attentionForward(out, 0, k, 0, v, 0, out, 0, lse, 0, 2, 3, 4, 2),
                    "attentionForward: out overlaps q", out, lse);
            assertRejected(() -> ops.attentionForward(q, 0, k, 0, v, 0, out, 0, v, 12, 2, 3, 4, 2),
                    "attentionForward: lse overlaps v", out);

            float[] delta = poisoned(12), dq = poisoned(24), dk = poisoned(24), dv = poisoned(24);
            float[] lseIn = new float[12], outIn = new float[24], dOut = new float[24];
            assertRejected(() -> ops.attentionBackward(q, 0, k, 0, v, 0, outIn, 0, lseIn, 0, new float[23], 0,
                    delta, 0, dq, 0, dk, 0, dv, 0, 2, 3, 4, 2),
                    "attentionBackward: dOut too short: need 24 elements from offset 0, has 23", delta, dq, dk, dv);
            assertRejected(() -> ops.attentionBackward(q, 0, k, 0, v, 0, outIn, 0, lseIn, 0, dOut, 0, delta, 0,
                    dq, 0, dq, 0, dv, 0, 2, 3, 4, 2), "attentionBackward: dk overlaps dq", delta, dq, dv);
            assertRejected(() -> ops.attentionBackward(q, 0, k, 0, v, 0, outIn, 0, lseIn, 0, dOut, 0, delta, 0,
                    dq, 0, dk, 0, dOut, 0, 2, 3, 4, 2), "attentionBackward: dv overlaps dOut", delta, dq, dk);
            assertRejected(() -> ops.attentionBackward(q, 0, k, 0, v, 0, outIn, 0, lseIn, 0, dOut, 0, delta, 0,
                    dq, 0, dk, 0, dv, 0, 2, 3, 5, 2), "attentionBackward: dim 5 is not divisible by heads 2",
                    delta, dq, dk, dv);
        }
    }
}
