package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.concat;
import static flexmoe.kernels.testing.Numerics.plus;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.slice;
import static flexmoe.kernels.testing.Numerics.toDouble;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The FlexOlmo router against a float64 reference: bias {@code min(b_i, 0)} only for experts i >= 1,
 * softmax over all experts, top-k with ties to the lower index, gates not renormalised, z-loss; backward
 * against float64 central differences of {@code dot(gates, w) + zWeight * mean_t lse^2}.
 */
class RouterTest {

    /** {tokens, dim, experts, k}; includes top-2 of 2 (FlexOlmo expert training) and k < E. */
    private static final int[][] SHAPES = {
        {1, 1, 1, 1}, {1, 5, 2, 2}, {3, 7, 2, 2}, {2, 16, 3, 1}, {5, 17, 4, 2}, {4, 33, 5, 3}, {3, 9, 7, 7},
    };

    /** Result of the float64 reference for one batch. */
    record Ref(double[] logits, double[] probs, double[] lse, int[] ids, double[] gates) {
    }

    static double[] logits(double[] h, double[] r, double[] b, int tokens, int dim, int experts) {
        double[] l = new double[tokens * experts];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < experts; i++) {
                double s = 0;
                for (int d = 0; d < dim; d++) {
                    s += r[i * dim + d] * h[t * dim + d];
                }
                l[t * experts + i] = s + (i >= 1 ? Math.min(b[i], 0) : 0);
            }
        }
        return l;
    }

    /** Softmax, lse and top-k (descending logit, equal logits: lower index first) from the logits. */
    static Ref fromLogits(double[] l, int tokens, int experts, int k) {
        double[] p = new double[tokens * experts];
        double[] lse = new double[tokens];
        int[] ids = new int[tokens * k];
        double[] gates = new double[tokens * k];
        for (int t = 0; t < tokens; t++) {
            int row = t * experts;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < experts; i++) {
                max = Math.max(max, l[row + i]);
            }
            double sum = 0;
            for (int i = 0; i < experts; i++) {
                sum += Math.exp(l[row + i] - max);
            }
            lse[t] = max + Math.log(sum);
            for (int i = 0; i < experts; i++) {
                p[row + i] = Math.exp(l[row + i] - lse[t]);
            }
            Integer[] order = IntStream.range(0, experts).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -l[row + i]).thenComparingInt(i -> i));
            for (int s = 0; s < k; s++) {
                ids[t * k + s] = order[s];
                gates[t * k + s] = p[row + order[s]];
            }
        }
        return new Ref(l, p, lse, ids, gates);
    }

    static Ref reference(double[] h, double[] r, double[] b, int tokens, int dim, int experts, int k) {
        return fromLogits(logits(h, r, b, tokens, dim, experts), tokens, experts, k);
    }

    /** The scalar the backward is checked against: {@code dot(gates, w) + zWeight * mean_t lse^2}. */
    static double loss(Ref ref, double[] w, double zWeight) {
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            s += ref.gates[i] * w[i];
        }
        double z = 0;
        for (double v : ref.lse) {
            z += v * v;
        }
        return s + zWeight * z / ref.lse.length;
    }

    /** Biases away from 0 (|b| in [0.2, 1]), both signs, so min(b, 0) is differentiable at every b. */
    static float[] biases(SplittableRandom rng, int experts) {
        float[] b = new float[experts];
        for (int i = 0; i < experts; i++) {
            b[i] = (float) ((0.2 + 0.8 * rng.nextDouble()) * (rng.nextBoolean() ? 1 : -1));
        }
        return b;
    }

    /** Redraws a token's hidden state until its sorted logits are at least {@code margin} apart. */
    static void separateLogits(SplittableRandom rng, float[] h, float[] r, float[] b, int tokens, int dim,
                               int experts, double margin) {
        for (int t = 0; t < tokens; t++) {
            while (true) {
                double[] ht = slice(h, t * dim, dim);
                double[] l = logits(ht, toDouble(r), toDouble(b), 1, dim, experts);
                Arrays.sort(l);
                boolean ok = true;
                for (int i = 1; i < experts; i++) {
                    ok &= l[i] - l[i - 1] > margin;
                }
                if (ok) {
                    break;
                }
                float[] fresh = uniform(rng, dim, 1);
                System.arraycopy(fresh, 0, h, t * dim, dim);
            }
        }
    }

    /** Router outputs of one forward call. */
    record Out(float[] probs, float[] lse, int[] ids, float[] gates) {
        static Out poisonedFor(int tokens, int experts, int k, int pad) {
            int[] ids = new int[pad + tokens * k];
            Arrays.fill(ids, Integer.MIN_VALUE);
            return new Out(poisoned(pad + tokens * experts), poisoned(pad + tokens), ids, poisoned(pad + tokens * k));
        }
    }

    static Out forward(Backend backend, float[] h, float[] r, float[] b, int tokens, int dim, int experts, int k) {
        Out o = Out.poisonedFor(tokens, experts, k, 0);
        backend.moe().routerForward(h, 0, r, 0, b, 0, o.probs, 0, o.lse, 0, o.ids, 0, o.gates, 0,
                tokens, dim, experts, k);
        return o;
    }

    @Test
    void forwardMatchesFloat64ReferenceWithOffsets() {
        SplittableRandom rng = new SplittableRandom(21);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], dim = s[1], experts = s[2], k = s[3];
                int hOff = 3, rOff = 1, bOff = 2, pad = 2;
                float[] h = uniform(rng, hOff + tokens * dim, 1);
                float[] r = uniform(rng, rOff + experts * dim, 1);
                float[] b = new float[bOff + experts];
                System.arraycopy(biases(rng, experts), 0, b, bOff, experts);
                Out o = Out.poisonedFor(tokens, experts, k, pad);
                backend.moe().routerForward(h, hOff, r, rOff, b, bOff, o.probs, pad, o.lse, pad, o.ids, pad,
                        o.gates, pad, tokens, dim, experts, k);

                Ref ref = reference(slice(h, hOff, tokens * dim), slice(r, rOff, experts * dim),
                        slice(b, bOff, experts), tokens, dim, experts, k);
                String what = Arrays.toString(s);
                assertClose("probs " + what, o.probs, pad, ref.probs, 0, tokens * experts, 1e-6, 1e-5);
                assertClose("lse " + what, o.lse, pad, ref.lse, 0, tokens, 1e-6, 1e-5);
                assertThat(Arrays.copyOfRange(o.ids, pad, pad + tokens * k)).as("ids " + what).containsExactly(ref.ids);
                assertClose("gates " + what, o.gates, pad, ref.gates, 0, tokens * k, 1e-6, 1e-5);
                for (int t = 0; t < tokens; t++) {
                    for (int q = 0; q < k; q++) {
                        assertThat(o.gates[pad + t * k + q])
                                .isEqualTo(o.probs[pad + t * experts + o.ids[pad + t * k + q]]);
                    }
                }
                assertThat(o.probs[0]).isNaN();
                assertThat(o.ids[pad - 1]).isEqualTo(Integer.MIN_VALUE);
            }
        }
    }

    @Test
    void biasIsMinBZeroForExpertsFromOneAndNeverReadForThePublicExpert() {
        SplittableRandom rng = new SplittableRandom(22);
        int tokens = 9, dim = 12, experts = 5, k = 3;
        float[] h = uniform(rng, tokens * dim, 1);
        float[] r = uniform(rng, experts * dim, 1);
        float[] clamped = {0f, -0.4f, 0f, -1.3f, 0f};
        float[] positive = {Float.NaN, -0.4f, 2.5f, -1.3f, 7f};
        try (Backend backend = Backends.create("jvm", 1)) {
            Out zero = forward(backend, h, r, clamped, tokens, dim, experts, k);
            Out pos = forward(backend, h, r, positive, tokens, dim, experts, k);
            assertBitsEqual("probs", pos.probs, zero.probs);
            assertBitsEqual("lse", pos.lse, zero.lse);
            assertBitsEqual("gates", pos.gates, zero.gates);
            assertThat(pos.ids).containsExactly(zero.ids);

            // A negative bias on expert 0 would change its logit if it were (wrongly) applied.
            float[] publicBias = {-5f, -0.4f, 0f, -1.3f, 0f};
            Out pub = forward(backend, h, r, publicBias, tokens, dim, experts, k);
            assertBitsEqual("public expert has no bias", pub.probs, zero.probs);

            // And the negative biases do act: compare with no bias at all.
            Out none = forward(backend, h, r, new float[experts], tokens, dim, experts, k);
            Ref ref = reference(toDouble(h), toDouble(r), new double[experts], tokens, dim, experts, k);
            assertClose("no bias", none.probs, ref.probs, 1e-6, 1e-5);
            assertThat(none.probs[1]).isNotEqualTo(zero.probs[1]);
        }
    }

    @Test
    void topKTiesGoToTheLowerExpertIndex() {
        try (Backend backend = Backends.create("jvm", 1)) {
            // dim 1, h = 1: the logits are the router weights (+ bias).
            float[] h = {1f};
            float[] r = {0f, 2f, 1f, 2f, 2f};
            Out o = forward(backend, h, r, new float[5], 1, 1, 5, 4);
            assertThat(o.ids).containsExactly(1, 3, 4, 2);

            // All logits equal: ids 0, 1, ..., k-1, probabilities 1/E.
            Out flat = forward(backend, new float[] {0f, 0f}, new float[] {3f, -1f, 2f, 5f, 1f, 7f}, new float[3],
                    1, 2, 3, 2);
            assertThat(flat.ids).containsExactly(0, 1);
            assertThat(flat.gates).containsExactly(1f / 3, 1f / 3);

            // A bias that brings expert 1 exactly level with the public expert: the public expert wins.
            Out level = forward(backend, h, new float[] {1f, 1.5f, 0f}, new float[] {0f, -0.5f, 0f}, 1, 1, 3, 2);
            assertThat(level.ids).containsExactly(0, 1);
        }
    }

    @Test
    void gatesAreNotRenormalised() {
        SplittableRandom rng = new SplittableRandom(23);
        int tokens = 6, dim = 8, experts = 4;
        float[] h = uniform(rng, tokens * dim, 1);
        float[] r = uniform(rng, experts * dim, 1);
        float[] b = biases(rng, experts);
        try (Backend backend = Backends.create("jvm", 1)) {
            for (int k = 1; k <= experts; k++) {
                Out o = forward(backend, h, r, b, tokens, dim, experts, k);
                for (int t = 0; t < tokens; t++) {
                    double sum = 0;
                    for (int q = 0; q < k; q++) {
                        sum += o.gates[t * k + q];
                    }
                    if (k < experts) {
                        assertThat(sum).as("k=%d token %d", k, t).isLessThan(1.0 - 1e-4);
                    } else {
                        assertThat(sum).as("k=E token %d", t).isCloseTo(1.0, offset(1e-6));
                    }
                }
            }
        }
    }

    @Test
    void zLossIsWeightedMeanOfSquaredLse() {
        SplittableRandom rng = new SplittableRandom(24);
        try (Backend one = Backends.create("jvm", 1); Backend two = Backends.create("jvm", 2)) {
            for (int tokens : new int[] {1, 7, 1000}) {
                float[] lse = uniform(rng, tokens + 3, 5);
                double s = 0;
                for (int t = 0; t < tokens; t++) {
                    s += (double) lse[3 + t] * lse[3 + t];
                }
                double expected = 1e-3 * s / tokens;
                float z = one.moe().routerZLoss(lse, 3, tokens, 1e-3f);
                assertThat((double) z).isCloseTo(expected, offset(1e-5 * expected));
                assertThat(Float.floatToRawIntBits(two.moe().routerZLoss(lse, 3, tokens, 1e-3f)))
                        .isEqualTo(Float.floatToRawIntBits(z));
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesForLogitsHiddenRouterAndBias() {
        SplittableRandom rng = new SplittableRandom(25);
        double zWeight = 0.1;
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], dim = s[1], experts = s[2], k = s[3];
                float[] h = uniform(rng, tokens * dim, 1);
                float[] r = uniform(rng, experts * dim, 1);
                float[] b = biases(rng, experts);
                b[0] = -0.7f; // never read: must get no gradient
                // Fixes the top-k selection and its order by a clear margin under the FD steps.
                separateLogits(rng, h, r, b, tokens, dim, experts, 0.02);
                float[] w = uniform(rng, tokens * k, 1);
                String what = Arrays.toString(s);

                Out o = forward(backend, h, r, b, tokens, dim, experts, k);
                float[] dLogits = poisoned(tokens * experts + 1);
                backend.moe().routerLogitsBackward(o.probs, 0, o.lse, 0, o.ids, 0, w, 0, (float) zWeight,
                        dLogits, 1, tokens, experts, k);

                double[] hd = toDouble(h), rd = toDouble(r), bd = toDouble(b), wd = toDouble(w);
                assertThat(o.ids).as("ids " + what).containsExactly(reference(hd, rd, bd, tokens, dim, experts, k).ids);
                double[] fdL = centralDifference(x -> loss(fromLogits(x, tokens, experts, k), wd, zWeight),
                        logits(hd, rd, bd, tokens, dim, experts), 1e-6);
                assertClose("dLogits " + what, dLogits, 1, fdL, 0, tokens * experts, 1e-5, 1e-4);

                // Accumulation: start from non-zero gradients, expect start + gradient.
                float[] dH0 = uniform(rng, tokens * dim, 1);
                float[] dR0 = uniform(rng, experts * dim, 1);
                float[] db0 = uniform(rng, experts, 1);
                float[] dH = dH0.clone(), dR = dR0.clone(), db = db0.clone();
                backend.moe().routerLinearBackward(dLogits, 1, h, 0, r, 0, b, 0, dH, 0, dR, 0, db, 0,
                        tokens, dim, experts);

                double[] fdH = centralDifference(x -> loss(reference(x, rd, bd, tokens, dim, experts, k), wd, zWeight),
                        hd, 1e-6);
                double[] fdR = centralDifference(x -> loss(reference(hd, x, bd, tokens, dim, experts, k), wd, zWeight),
                        rd, 1e-6);
                double[] fdB = centralDifference(x -> loss(reference(hd, rd, x, tokens, dim, experts, k), wd, zWeight),
                        bd, 1e-6);
                assertClose("dH " + what, dH, plus(dH0, fdH), 1e-5, 1e-4);
                assertClose("dR " + what, dR, plus(dR0, fdR), 1e-5, 1e-4);
                assertClose("db " + what, db, plus(db0, fdB), 1e-5, 1e-4);
                assertThat(db[0]).isEqualTo(db0[0]);
            }
        }
    }

    @Test
    void biasSubgradientIsHalfAtZeroOneBelowZeroNoneAbove() {
        SplittableRandom rng = new SplittableRandom(26);
        int tokens = 11, dim = 6, experts = 5, k = 2;
        float[] h = uniform(rng, tokens * dim, 1);
        float[] r = uniform(rng, experts * dim, 1);
        float[] b = {-2f, 0f, -0f, -0.3f, 0.3f};
        float[] w = uniform(rng, tokens * k, 1);
        try (Backend backend = Backends.create("jvm", 1)) {
            Out o = forward(backend, h, r, b, tokens, dim, experts, k);
            float[] dLogits = poisoned(tokens * experts);
            backend.moe().routerLogitsBackward(o.probs, 0, o.lse, 0, o.ids, 0, w, 0, 1e-3f, dLogits, 0,
                    tokens, experts, k);
            float[] db = new float[experts];
            backend.moe().routerLinearBackward(dLogits, 0, h, 0, r, 0, b, 0, new float[tokens * dim], 0,
                    new float[experts * dim], 0, db, 0, tokens, dim, experts);
            double[] column = new double[experts];
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < experts; i++) {
                    column[i] += dLogits[t * experts + i];
                }
            }
            double[] expected = {0, 0.5 * column[1], 0.5 * column[2], column[3], 0};
            assertClose("db", db, expected, 1e-6, 1e-5);
            assertThat(column[1]).isNotCloseTo(0, offset(1e-4));
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(27);
        int tokens = 3000, dim = 64, experts = 8, k = 3;
        float[] h = uniform(rng, tokens * dim, 1);
        float[] r = uniform(rng, experts * dim, 1);
        float[] b = biases(rng, experts);
        float[] w = uniform(rng, tokens * k, 1);
        float[][] floats = new float[2][];
        int[][] ids = new int[2][];
        for (int n = 0; n < 2; n++) {
            try (Backend backend = Backends.create("jvm", n + 1)) {
                Out o = forward(backend, h, r, b, tokens, dim, experts, k);
                float[] dLogits = poisoned(tokens * experts);
                backend.moe().routerLogitsBackward(o.probs, 0, o.lse, 0, o.ids, 0, w, 0, 1e-3f, dLogits, 0,
                        tokens, experts, k);
                float[] dH = new float[tokens * dim], dR = new float[experts * dim], db = new float[experts];
                backend.moe().routerLinearBackward(dLogits, 0, h, 0, r, 0, b, 0, dH, 0, dR, 0, db, 0,
                        tokens, dim, experts);
                float[] z = {backend.moe().routerZLoss(o.lse, 0, tokens, 1e-3f)};
                floats[n] = concat(o.probs, o.lse, o.gates, dLogits, dH, dR, db, z);
                ids[n] = o.ids;
            }
        }
        assertBitsEqual("router 1 vs 2 threads", floats[1], floats[0]);
        assertThat(ids[1]).containsExactly(ids[0]);
    }

    @Test
    void jvmLinearBackwardGivesThePlainBodiesBits() {
        // The JVM computes dR with the token loop outside (cache); chunks here end mid-row (349 cells of 420).
        SplittableRandom rng = new SplittableRandom(28);
        int tokens = 3001, dim = 70, experts = 6;
        float[] dLogits = uniform(rng, tokens * experts, 1);
        float[] h = uniform(rng, tokens * dim, 1);
        float[] r = uniform(rng, experts * dim, 1);
        float[] b = {0.5f, -0.5f, 0f, 0.1f, -2f, 3f};
        float[] dH = uniform(rng, tokens * dim, 1), dR = uniform(rng, experts * dim, 1), db = uniform(rng, experts, 1);
        float[] dHBody = dH.clone(), dRBody = dR.clone(), dbBody = db.clone();
        for (int t = 0; t < tokens; t++) {
            RouterKernels.inputGradToken(t, dLogits, 0, r, 0, dHBody, 0, dim, experts);
        }
        for (int i = 0; i < experts; i++) {
            for (int d = 0; d < dim; d++) {
                RouterKernels.weightGradCell(i, d, dLogits, 0, h, 0, dRBody, 0, tokens, dim, experts);
            }
            RouterKernels.biasGrad(i, dLogits, 0, b, 0, dbBody, 0, tokens, experts);
        }
        try (Backend backend = Backends.create("jvm", 2)) {
            backend.moe().routerLinearBackward(dLogits, 0, h, 0, r, 0, b, 0, dH, 0, dR, 0, db, 0,
                    tokens, dim, experts);
        }
        assertBitsEqual("dH", dH, dHBody);
        assertBitsEqual("dR", dR, dRBody);
        assertBitsEqual("db", db, dbBody);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            MoeOps moe = backend.moe();
            int tokens = 2, dim = 3, experts = 4;
            float[] h = new float[tokens * dim], r = new float[experts * dim], b = new float[experts];
            Out o = Out.poisonedFor(tokens, experts, 2, 0);
            assertThatThrownBy(() -> moe.routerForward(h, 0, r, 0, b, 0, o.probs, 0, o.lse, 0, o.ids, 0, o.gates, 0,
                    tokens, dim, experts, 5))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("routerForward: k must be at most experts, got k = 5 > experts = 4");
            assertThatThrownBy(() -> moe.routerForward(h, 0, r, 0, b, 0, o.probs, 0, o.lse, 0, o.ids, 0, o.gates, 0,
                    tokens, dim, experts, 0))
                    .hasMessage("routerForward: k must be at least 1, got 0");
            assertThatThrownBy(() -> moe.routerForward(h, 0, r, 0, new float[3], 0, o.probs, 0, o.lse, 0, o.ids, 0,
                    o.gates, 0, tokens, dim, experts, 2))
                    .hasMessage("routerForward: b too short: need 4 elements from offset 0, has 3");
            assertThatThrownBy(() -> moe.routerForward(h, 0, r, 0, b, 0, o.probs, 0, o.lse, 0, o.ids, 1, o.gates, 0,
                    tokens, dim, experts, 2))
                    .hasMessage("routerForward: ids too short: need 4 elements from offset 1, has 4");
            assertThatThrownBy(() -> moe.routerForward(h, 1, r, 0, b, 0, o.probs, 0, o.lse, 0, o.ids, 0, o.gates, 0,
                    tokens, dim, experts, 2))
                    .hasMessage("routerForward: h too short: need 6 elements from offset 1, has 6");

            float[] dLogits = poisoned(tokens * experts);
            int[] badIds = {0, 1, 3, 4};
            assertThatThrownBy(() -> moe.routerLogitsBackward(new float[8], 0, new float[2], 0, badIds, 0,
                    new float[4], 0, 1e-3f, dLogits, 0, tokens, experts, 2))
                    .hasMessage("routerLogitsBackward: ids[3] = 4 out of range [0, 4)");
            int[] negative = {0, -1, 3, 2};
            assertThatThrownBy(() -> moe.routerLogitsBackward(new float[8], 0, new float[2], 0, negative, 0,
                    new float[4], 0, 1e-3f, dLogits, 0, tokens, experts, 2))
                    .hasMessage("routerLogitsBackward: ids[1] = -1 out of range [0, 4)");
            assertThatThrownBy(() -> moe.routerLogitsBackward(new float[8], 0, new float[2], 0, new int[4], 0,
                    new float[3], 0, 1e-3f, dLogits, 0, tokens, experts, 2))
                    .hasMessage("routerLogitsBackward: dGate too short: need 4 elements from offset 0, has 3");
            assertThatThrownBy(() -> moe.routerLogitsBackward(new float[8], 0, new float[2], 0, new int[4], 0,
                    new float[4], 0, 1e-3f, dLogits, 0, tokens, 1, 2))
                    .hasMessage("routerLogitsBackward: k must be at most experts, got k = 2 > experts = 1");

            float[] dH = poisoned(tokens * dim), dR = poisoned(experts * dim), db = poisoned(experts);
            assertThatThrownBy(() -> moe.routerLinearBackward(new float[8], 0, h, 0, r, 0, b, 0, dH, 0, dR, 0,
                    poisoned(3), 0, tokens, dim, experts))
                    .hasMessage("routerLinearBackward: db too short: need 4 elements from offset 0, has 3");
            assertThatThrownBy(() -> moe.routerLinearBackward(new float[7], 0, h, 0, r, 0, b, 0, dH, 0, dR, 0,
                    db, 0, tokens, dim, experts))
                    .hasMessage("routerLinearBackward: dLogits too short: need 8 elements from offset 0, has 7");
            assertThatThrownBy(() -> moe.routerLinearBackward(new float[8], 0, h, 0, r, 0, b, 0, dH, 0, dR, 0,
                    db, 0, tokens, 0, experts))
                    .hasMessage("routerLinearBackward: dim must be at least 1, got 0");
            assertThatThrownBy(() -> moe.routerZLoss(new float[3], 0, 0, 1e-3f))
                    .hasMessage("routerZLoss: tokens must be at least 1, got 0");
            assertThatThrownBy(() -> moe.routerZLoss(new float[3], 1, 3, 1e-3f))
                    .hasMessage("routerZLoss: lse too short: need 3 elements from offset 1, has 3");

            for (float v : concat(o.probs, o.lse, o.gates, dLogits, dH, dR, db)) {
                assertThat(v).isNaN();
            }
            for (int id : o.ids) {
                assertThat(id).isEqualTo(Integer.MIN_VALUE);
            }
        }
    }
}
