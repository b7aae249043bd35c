package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.concat;
import static flexmoe.kernels.testing.Numerics.dot;
import static flexmoe.kernels.testing.Numerics.plus;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.slice;
import static flexmoe.kernels.testing.Numerics.toDouble;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Dropless dispatch: the plan's bookkeeping and invariants, gather / combine against float64 references
 * and finite differences, an identity-expert round trip, and argument checks.
 */
class DispatchTest {

    /** {tokens, dim, experts, k}; includes top-2 of 2 and k < E. */
    private static final int[][] SHAPES = {
        {1, 1, 1, 1}, {1, 3, 2, 2}, {5, 7, 2, 2}, {9, 17, 4, 2}, {13, 33, 5, 3}, {6, 16, 3, 1}, {4, 5, 6, 6},
    };

    /** Distinct expert ids per token drawn from {@code allowed} (a router never repeats an expert). */
    static int[] randomIds(SplittableRandom rng, int tokens, int k, int[] allowed) {
        int[] ids = new int[tokens * k];
        for (int t = 0; t < tokens; t++) {
            int[] pool = allowed.clone();
            for (int s = 0; s < k; s++) {
                int j = s + rng.nextInt(pool.length - s);
                int tmp = pool[s];
                pool[s] = pool[j];
                pool[j] = tmp;
                ids[t * k + s] = pool[s];
            }
        }
        return ids;
    }

    static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, Integer.MIN_VALUE);
        return a;
    }

    /** A dispatch plan. */
    record Plan(int[] counts, int[] offsets, int[] slotRow, int[] rowToken) {
        static Plan poisonedFor(int tokens, int experts, int k) {
            return new Plan(filled(experts), filled(experts + 1), filled(tokens * k), filled(tokens * k));
        }
    }

    /** Reference plan, written the obvious way: expert by expert, tokens in order. */
    static Plan referencePlan(int[] ids, int tokens, int experts, int k) {
        Plan p = new Plan(new int[experts], new int[experts + 1], new int[tokens * k], new int[tokens * k]);
        int row = 0;
        for (int e = 0; e < experts; e++) {
            p.offsets[e] = row;
            for (int t = 0; t < tokens; t++) {
                for (int s = 0; s < k; s++) {
                    if (ids[t * k + s] == e) {
                        p.slotRow[t * k + s] = row;
                        p.rowToken[row] = t;
                        row++;
                        p.counts[e]++;
                    }
                }
            }
        }
        p.offsets[experts] = row;
        return p;
    }

    static Plan plan(Backend backend, int[] ids, int tokens, int experts, int k) {
        Plan p = Plan.poisonedFor(tokens, experts, k);
        backend.moe().dispatchPlan(ids, 0, tokens, experts, k, p.counts, 0, p.offsets, 0, p.slotRow, 0, p.rowToken, 0);
        return p;
    }

    static double[] gatherRef(double[] h, int[] rowToken, int rows, int dim) {
        double[] xe = new double[rows * dim];
        for (int row = 0; row < rows; row++) {
            System.arraycopy(h, rowToken[row] * dim, xe, row * dim, dim);
        }
        return xe;
    }

    static double[] combineRef(double[] ye, double[] gates, int[] slotRow, int tokens, int dim, int k) {
        double[] y = new double[tokens * dim];
        for (int t = 0; t < tokens; t++) {
            for (int s = 0; s < k; s++) {
                for (int d = 0; d < dim; d++) {
                    y[t * dim + d] += gates[t * k + s] * ye[slotRow[t * k + s] * dim + d];
                }
            }
        }
        return y;
    }

    @Test
    void planMatchesReferenceAndKeepsItsInvariants() {
        SplittableRandom rng = new SplittableRandom(31);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], experts = s[2], k = s[3];
                int[] ids = randomIds(rng, tokens, k, range(experts));
                int off = 2;
                int[] idsOff = new int[off + ids.length];
                System.arraycopy(ids, 0, idsOff, off, ids.length);
                int[] counts = filled(experts + off), offsets = filled(experts + 1 + off);
                int[] slotRow = filled(tokens * k + off), rowToken = filled(tokens * k + off);
                backend.moe().dispatchPlan(idsOff, off, tokens, experts, k, counts, off, offsets, off, slotRow, off,
                        rowToken, off);
                Plan p = new Plan(Arrays.copyOfRange(counts, off, off + experts),
                        Arrays.copyOfRange(offsets, off, off + experts + 1),
                        Arrays.copyOfRange(slotRow, off, off + tokens * k),
                        Arrays.copyOfRange(rowToken, off, off + tokens * k));
                assertThat(counts[off - 1]).isEqualTo(Integer.MIN_VALUE);
                Plan ref = referencePlan(ids, tokens, experts, k);
                String what = Arrays.toString(s);
                assertThat(p.counts).as("counts " + what).containsExactly(ref.counts);
                assertThat(p.offsets).as("offsets " + what).containsExactly(ref.offsets);
                assertThat(p.slotRow).as("slotRow " + what).containsExactly(ref.slotRow);
                assertThat(p.rowToken).as("rowToken " + what).containsExactly(ref.rowToken);
                assertInvariants(what, p, ids, tokens, experts, k);
            }
        }
    }

    /** Invariants the model and DP code rely on, checked independently of the reference plan. */
    static void assertInvariants(String what, Plan p, int[] ids, int tokens, int experts, int k) {
        int rows = tokens * k;
        assertThat(p.offsets[0]).as(what).isZero();
        assertThat(p.offsets[experts]).as(what).isEqualTo(rows);
        for (int e = 0; e < experts; e++) {
            assertThat(p.offsets[e + 1] - p.offsets[e]).as(what + " count " + e).isEqualTo(p.counts[e]);
        }
        boolean[] seen = new boolean[rows];
        for (int t = 0; t < tokens; t++) {
            for (int s = 0; s < k; s++) {
                int row = p.slotRow[t * k + s];
                int e = ids[t * k + s];
                assertThat(row).as(what + " row in expert block").isBetween(p.offsets[e], p.offsets[e + 1] - 1);
                assertThat(p.rowToken[row]).as(what + " inverse").isEqualTo(t);
                assertThat(seen[row]).as(what + " row used once").isFalse();
                seen[row] = true;
            }
        }
        for (int e = 0; e < experts; e++) {
            for (int row = p.offsets[e] + 1; row < p.offsets[e + 1]; row++) {
                assertThat(p.rowToken[row]).as(what + " token order in expert " + e).isGreaterThan(p.rowToken[row - 1]);
            }
        }
    }

    @Test
    void perExampleRowsAreContiguousInsideEachExpertBlock() {
        SplittableRandom rng = new SplittableRandom(32);
        int examples = 7, seq = 5, tokens = examples * seq, experts = 4, k = 2;
        int[] ids = randomIds(rng, tokens, k, range(experts));
        try (Backend backend = Backends.create("jvm", 1)) {
            Plan p = plan(backend, ids, tokens, experts, k);
            for (int e = 0; e < experts; e++) {
                boolean[] closed = new boolean[examples];
                int current = -1;
                for (int row = p.offsets[e]; row < p.offsets[e + 1]; row++) {
                    int example = p.rowToken[row] / seq;
                    if (example != current) {
                        assertThat(closed[example]).as("example %d split in expert %d", example, e).isFalse();
                        if (current >= 0) {
                            closed[current] = true;
                        }
                        current = example;
                    }
                }
            }
        }
    }

    @Test
    void anExpertWithNoTokensGetsAnEmptyBlock() {
        SplittableRandom rng = new SplittableRandom(33);
        int tokens = 10, dim = 6, experts = 5, k = 2;
        int[] allowed = {0, 1, 3};
        int[] ids = randomIds(rng, tokens, k, allowed);
        float[] h = uniform(rng, tokens * dim, 1);
        float[] gates = uniform(rng, tokens * k, 1);
        try (Backend backend = Backends.create("jvm", 1)) {
            Plan p = plan(backend, ids, tokens, experts, k);
            assertInvariants("zero-token experts", p, ids, tokens, experts, k);
            assertThat(p.counts[2]).isZero();
            assertThat(p.counts[4]).isZero();
            assertThat(p.offsets[2]).isEqualTo(p.offsets[3]);
            assertThat(p.offsets[4]).isEqualTo(p.offsets[5]).isEqualTo(tokens * k);

            float[] xe = poisoned(tokens * k * dim);
            backend.moe().gather(h, 0, p.rowToken, 0, xe, 0, tokens, dim, k);
            float[] y = poisoned(tokens * dim);
            backend.moe().combine(xe, 0, p.slotRow, 0, gates, 0, y, 0, tokens, dim, k);
            double[] expected = combineRef(gatherRef(toDouble(h), p.rowToken, tokens * k, dim), toDouble(gates),
                    p.slotRow, tokens, dim, k);
            assertClose("combine with empty experts", y, expected, 1e-6, 1e-5);
        }
    }

    @Test
    void gatherAndCombineMatchFloat64ReferenceWithOffsets() {
        SplittableRandom rng = new SplittableRandom(34);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], dim = s[1], experts = s[2], k = s[3], rows = tokens * k;
                int[] ids = randomIds(rng, tokens, k, range(experts));
                Plan p = plan(backend, ids, tokens, experts, k);
                int hOff = 3, xOff = 2, gOff = 1, yOff = 4, srOff = 1;
                int[] slotRow = new int[srOff + rows];
                System.arraycopy(p.slotRow, 0, slotRow, srOff, rows);
                float[] h = uniform(rng, hOff + tokens * dim, 1);
                float[] xe = poisoned(xOff + rows * dim + 1);
                backend.moe().gather(h, hOff, p.rowToken, 0, xe, xOff, tokens, dim, k);
                String what = Arrays.toString(s);
                double[] hd = slice(h, hOff, tokens * dim);
                assertClose("gather " + what, xe, xOff, gatherRef(hd, p.rowToken, rows, dim), 0, rows * dim, 0, 0);
                assertThat(xe[xOff + rows * dim]).isNaN();

                float[] ye = uniform(rng, xOff + rows * dim, 1);
                float[] gates = uniform(rng, gOff + rows, 1);
                float[] y = poisoned(yOff + tokens * dim);
                backend.moe().combine(ye, xOff, slotRow, srOff, gates, gOff, y, yOff, tokens, dim, k);
                double[] expected = combineRef(slice(ye, xOff, rows * dim),
                        slice(gates, gOff, rows), p.slotRow, tokens, dim, k);
                assertClose("combine " + what, y, yOff, expected, 0, tokens * dim, 1e-6, 1e-5);
                assertThat(y[yOff - 1]).isNaN();
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(35);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], dim = s[1], experts = s[2], k = s[3], rows = tokens * k;
                int[] ids = randomIds(rng, tokens, k, range(experts));
                Plan p = plan(backend, ids, tokens, experts, k);
                String what = Arrays.toString(s);

                // Gather: loss = dot(xe, w); dh accumulates onto its starting value.
                float[] h = uniform(rng, tokens * dim, 1);
                float[] wx = uniform(rng, rows * dim, 1);
                float[] dh0 = uniform(rng, tokens * dim, 1);
                float[] dh = dh0.clone();
                backend.moe().gatherBackward(wx, 0, p.slotRow, 0, dh, 0, tokens, dim, k);
                double[] wxd = toDouble(wx);
                double[] fdH = centralDifference(x -> dot(gatherRef(x, p.rowToken, rows, dim), wxd), toDouble(h), 1e-6);
                assertClose("gather dh " + what, dh, plus(dh0, fdH), 1e-5, 1e-4);

                // Combine: loss = dot(y, w); dYe and dGate are overwritten.
                float[] ye = uniform(rng, rows * dim, 1);
                float[] gates = uniform(rng, rows, 1);
                float[] wy = uniform(rng, tokens * dim, 1);
                float[] dYe = poisoned(rows * dim + 2);
                float[] dGate = poisoned(rows + 1);
                backend.moe().combineBackward(wy, 0, ye, 0, gates, 0, p.slotRow, 0, p.rowToken, 0, dYe, 2, dGate, 1,
                        tokens, dim, k);
                double[] yed = toDouble(ye), gd = toDouble(gates), wyd = toDouble(wy);
                double[] fdYe = centralDifference(x -> dot(combineRef(x, gd, p.slotRow, tokens, dim, k), wyd), yed, 1e-6);
                double[] fdG = centralDifference(x -> dot(combineRef(yed, x, p.slotRow, tokens, dim, k), wyd), gd, 1e-6);
                assertClose("combine dYe " + what, dYe, 2, fdYe, 0, rows * dim, 1e-5, 1e-4);
                assertClose("combine dGate " + what, dGate, 1, fdG, 0, rows, 1e-5, 1e-4);
                assertThat(dYe[1]).isNaN();
                assertThat(dGate[0]).isNaN();
            }
        }
    }

    @Test
    void identityExpertRoundTripGivesGateSumTimesHidden() {
        SplittableRandom rng = new SplittableRandom(36);
        int[][] cases = {{7, 12, 2, 2}, {9, 10, 5, 2}, {5, 3, 4, 1}};
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] c : cases) {
                int tokens = c[0], dim = c[1], experts = c[2], k = c[3], rows = tokens * k;
                float[] h = uniform(rng, tokens * dim, 1);
                float[] r = uniform(rng, experts * dim, 1);
                float[] b = uniform(rng, experts, 1);
                RouterTest.Out o = RouterTest.forward(backend, h, r, b, tokens, dim, experts, k);
                Plan p = plan(backend, o.ids(), tokens, experts, k);
                float[] xe = poisoned(rows * dim);
                backend.moe().gather(h, 0, p.rowToken, 0, xe, 0, tokens, dim, k);
                float[] y = poisoned(tokens * dim);
                backend.moe().combine(xe, 0, p.slotRow, 0, o.gates(), 0, y, 0, tokens, dim, k);
                double[] expected = new double[tokens * dim];
                for (int t = 0; t < tokens; t++) {
                    double g = 0;
                    for (int s = 0; s < k; s++) {
                        g += o.gates()[t * k + s];
                    }
                    if (k == experts) {
                        assertThat(g).isCloseTo(1.0, offset(1e-6));
                    }
                    for (int d = 0; d < dim; d++) {
                        expected[t * dim + d] = g * h[t * dim + d];
                    }
                }
                assertClose("identity expert " + Arrays.toString(c), y, expected, 1e-6, 1e-5);
            }
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(37);
        int tokens = 2000, dim = 64, experts = 8, k = 3, rows = tokens * k;
        int[] ids = randomIds(rng, tokens, k, range(experts));
        float[] h = uniform(rng, tokens * dim, 1);
        float[] ye = uniform(rng, rows * dim, 1);
        float[] gates = uniform(rng, rows, 1);
        float[] dy = uniform(rng, tokens * dim, 1);
        float[][] out = new float[2][];
        int[][] plans = new int[2][];
        for (int n = 0; n < 2; n++) {
            try (Backend backend = Backends.create("jvm", n + 1)) {
                Plan p = plan(backend, ids, tokens, experts, k);
                float[] xe = poisoned(rows * dim);
                float[] y = poisoned(tokens * dim);
                float[] dYe = poisoned(rows * dim);
                float[] dGate = poisoned(rows);
                float[] dh = new float[tokens * dim];
                backend.moe().gather(h, 0, p.rowToken, 0, xe, 0, tokens, dim, k);
                backend.moe().combine(ye, 0, p.slotRow, 0, gates, 0, y, 0, tokens, dim, k);
                backend.moe().combineBackward(dy, 0, ye, 0, gates, 0, p.slotRow, 0, p.rowToken, 0, dYe, 0, dGate, 0,
                        tokens, dim, k);
                backend.moe().gatherBackward(dYe, 0, p.slotRow, 0, dh, 0, tokens, dim, k);
                out[n] = concat(xe, y, dYe, dGate, dh);
                plans[n] = IntStream.concat(
                        IntStream.concat(Arrays.stream(p.counts), Arrays.stream(p.offsets)),
                        IntStream.concat(Arrays.stream(p.slotRow), Arrays.stream(p.rowToken)))
                        .toArray();
            }
        }
        assertBitsEqual("dispatch 1 vs 2 threads", out[1], out[0]);
        assertThat(plans[1]).containsExactly(plans[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            MoeOps moe = backend.moe();
            int tokens = 3, dim = 2, experts = 4, k = 2, rows = tokens * k;
            int[] ids = {0, 1, 2, 3, 1, 0};
            Plan p = Plan.poisonedFor(tokens, experts, k);
            assertThatThrownBy(() -> moe.dispatchPlan(ids, 0, tokens, 1, k, p.counts, 0, p.offsets, 0, p.slotRow, 0,
                    p.rowToken, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("dispatchPlan: k must be at most experts, got k = 2 > experts = 1");
            assertThatThrownBy(() -> moe.dispatchPlan(ids, 0, tokens, experts, 0, p.counts, 0, p.offsets, 0,
                    p.slotRow, 0, p.rowToken, 0))
                    .hasMessage("dispatchPlan: k must be at least 1, got 0");
            assertThatThrownBy(() -> moe.dispatchPlan(new int[] {0, 1, 2, 4, 1, 0}, 0, tokens, experts, k, p.counts,
                    0, p.offsets, 0, p.slotRow, 0, p.rowToken, 0))
                    .hasMessage("dispatchPlan: ids[3] = 4 out of range [0, 4)");
            assertThatThrownBy(() -> moe.dispatchPlan(new int[] {0, 1, 2, 3, -2, 0}, 0, tokens, experts, k,
                    p.counts, 0, p.offsets, 0, p.slotRow, 0, p.rowToken, 0))
                    .hasMessage("dispatchPlan: ids[4] = -2 out of range [0, 4)");
            assertThatThrownBy(() -> moe.dispatchPlan(ids, 0, tokens, experts, k, p.counts, 0, new int[4], 0,
                    p.slotRow, 0, p.rowToken, 0))
                    .hasMessage("dispatchPlan: offsets too short: need 5 elements from offset 0, has 4");
            assertThatThrownBy(() -> moe.dispatchPlan(ids, 1, tokens, experts, k, p.counts, 0, p.offsets, 0,
                    p.slotRow, 0, p.rowToken, 0))
                    .hasMessage("dispatchPlan: ids too short: need 6 elements from offset 1, has 6");
            assertThatThrownBy(() -> moe.dispatchPlan(ids, 0, tokens, experts, k, p.counts, 0, p.offsets, 0,
                    new int[5], 0, p.rowToken, 0))
                    .hasMessage("dispatchPlan: slotRow too short: need 6 elements from offset 0, has 5");
            for (int v : p.counts) {
                assertThat(v).isEqualTo(Integer.MIN_VALUE);
            }
            for (int v : p.slotRow) {
                assertThat(v).isEqualTo(Integer.MIN_VALUE);
            }

            Plan good = plan(backend, ids, tokens, experts, k);
            float[] h = new float[tokens * dim];
            float[] xe = poisoned(rows * dim);
            float[] y = poisoned(tokens * dim);
            float[] dh = poisoned(tokens * dim);
            float[] dYe = poisoned(rows * dim);
            float[] dGate = poisoned(rows);
            float[] ye = new float[rows * dim];
            float[] gates = new float[rows];
            int[] badToken = good.rowToken.clone();
            badToken[2] = 3;
            assertThatThrownBy(() -> moe.gather(h, 0, badToken, 0, xe, 0, tokens, dim, k))
                    .hasMessage("gather: rowToken[2] = 3 out of range [0, 3)");
            assertThatThrownBy(() -> moe.gather(h, 0, good.rowToken, 0, xe, 1, tokens, dim, k))
                    .hasMessage("gather: xe too short: need 12 elements from offset 1, has 12");
            int[] badRow = good.slotRow.clone();
            badRow[5] = 6;
            assertThatThrownBy(() -> moe.gatherBackward(dYe, 0, badRow, 0, dh, 0, tokens, dim, k))
                    .hasMessage("gatherBackward: slotRow[5] = 6 out of range [0, 6)");
            assertThatThrownBy(() -> moe.combine(ye, 0, badRow, 0, gates, 0, y, 0, tokens, dim, k))
                    .hasMessage("combine: slotRow[5] = 6 out of range [0, 6)");
            assertThatThrownBy(() -> moe.combine(ye, 0, good.slotRow, 0, new float[5], 0, y, 0, tokens, dim, k))
                    .hasMessage("combine: gates too short: need 6 elements from offset 0, has 5");
            assertThatThrownBy(() -> moe.combine(ye, 0, good.slotRow, 0, gates, 0, y, 0, tokens, 0, k))
                    .hasMessage("combine: dim must be at least 1, got 0");

            // Token 0's slots point at rows of other tokens: not a dispatch plan.
            int[] swapped = good.slotRow.clone();
            swapped[0] = good.slotRow[2];
            swapped[2] = good.slotRow[0];
            assertThatThrownBy(() -> moe.combineBackward(y, 0, ye, 0, gates, 0, swapped, 0, good.rowToken, 0,
                    dYe, 0, dGate, 0, tokens, dim, k))
                    .hasMessage("combineBackward: slotRow[0] = " + good.slotRow[2] + " but rowToken["
                            + good.slotRow[2] + "] = 1, expected 0 (not a dispatch plan)");
            int[] twice = good.slotRow.clone();
            twice[1] = twice[0];
            assertThatThrownBy(() -> moe.combineBackward(y, 0, ye, 0, gates, 0, twice, 0, good.rowToken, 0,
                    dYe, 0, dGate, 0, tokens, dim, k))
                    .hasMessage("combineBackward: slotRow[0] and slotRow[1] are both " + twice[0]
                            + " (not a dispatch plan)");
            assertThatThrownBy(() -> moe.combineBackward(y, 0, ye, 0, gates, 0, good.slotRow, 0, good.rowToken, 0,
                    dYe, 0, new float[5], 0, tokens, dim, k))
                    .hasMessage("combineBackward: dGate too short: need 6 elements from offset 0, has 5");

            for (float v : concat(xe, y, dh, dYe, dGate)) {
                assertThat(v).isNaN();
            }
        }
    }
}
