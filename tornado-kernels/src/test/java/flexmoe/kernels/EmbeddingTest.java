package flexmoe.kernels;

import static flexmoe.kernels.TransformerTesting.assertRejected;
import static flexmoe.kernels.TransformerTesting.padded;
import static flexmoe.kernels.TransformerTesting.slice;
import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.centralDifference;
import static flexmoe.kernels.testing.Numerics.dot;
import static flexmoe.kernels.testing.Numerics.ints;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Embedding lookup and its scatter-add gradient against float64 references, and across thread counts. */
class EmbeddingTest {

    /** {tokens, vocab, dim}: tiny, odd, repeated ids (tokens > vocab), not multiples of 16. */
    private static final int[][] SHAPES = {{1, 1, 1}, {5, 3, 7}, {17, 33, 20}, {40, 10, 65}, {3, 100, 1}};

    static double[] reference(int[] ids, int idsOff, double[] table, int tokens, int dim) {
        double[] out = new double[tokens * dim];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < dim; c++) {
                out[t * dim + c] = table[ids[idsOff + t] * dim + c];
            }
        }
        return out;
    }

    @Test
    void forwardCopiesTheRowsOfTheIds() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], vocab = s[1], dim = s[2];
                int[] ids = padded(ints(rng, tokens, vocab), 2);
                float[] table = padded(uniform(rng, vocab * dim, 1), 3);
                float[] out = poisoned(1 + tokens * dim);
                backend.transformer().embeddingForward(ids, 2, table, 3, out, 1, tokens, vocab, dim);
                double[] expected = reference(ids, 2, slice(table, 3, vocab * dim), tokens, dim);
                assertClose("embedding " + tokens + "x" + vocab + "x" + dim, out, 1, expected, 0, tokens * dim, 0, 0);
            }
        }
    }

    @Test
    void backwardAccumulatesTheFiniteDifferenceGradientOfTheTable() {
        SplittableRandom rng = new SplittableRandom(2);
        try (Backend backend = Backends.create("jvm", 2)) {
            for (int[] s : SHAPES) {
                int tokens = s[0], vocab = s[1], dim = s[2];
                int[] ids = padded(ints(rng, tokens, vocab), 1);
                float[] dOut = padded(uniform(rng, tokens * dim, 1), 2);
                double[] g = slice(dOut, 2, tokens * dim);
                float[] dTable = padded(uniform(rng, vocab * dim, 1), 3);
                // The lookup is linear in the table, so the point the differences are taken at is arbitrary.
                double[] expected = centralDifference(tab -> dot(reference(ids, 1, tab, tokens, dim), g),
                        new double[vocab * dim], 1e-6);
                for (int i = 0; i < expected.length; i++) {
                    expected[i] += dTable[3 + i];
                }
                backend.transformer().embeddingBackward(ids, 1, dOut, 2, dTable, 3, tokens, vocab, dim);
                assertClose("dTable " + tokens + "x" + vocab + "x" + dim, dTable, 3, expected, 0, vocab * dim,
                        1e-5, 1e-5);
            }
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(3);
        int tokens = 3000, vocab = 50, dim = 200;
        int[] ids = ints(rng, tokens, vocab);
        float[] table = uniform(rng, vocab * dim, 1);
        float[] dOut = uniform(rng, tokens * dim, 1);
        float[] init = uniform(rng, vocab * dim, 1);
        float[] out1 = poisoned(tokens * dim), out2 = poisoned(tokens * dim);
        float[] dTable1 = init.clone(), dTable2 = init.clone();
        try (Backend one = Backends.create("jvm", 1); Backend two = Backends.create("jvm", 2)) {
            one.transformer().embeddingForward(ids, 0, table, 0, out1, 0, tokens, vocab, dim);
            two.transformer().embeddingForward(ids, 0, table, 0, out2, 0, tokens, vocab, dim);
            one.transformer().embeddingBackward(ids, 0, dOut, 0, dTable1, 0, tokens, vocab, dim);
            two.transformer().embeddingBackward(ids, 0, dOut, 0, dTable2, 0, tokens, vocab, dim);
        }
        assertBitsEqual("embeddingForward", out2, out1);
        assertBitsEqual("embeddingBackward", dTable2, dTable1);
    }

    @Test
    void columnBlockWidthDoesNotChangeTheBits() {
        SplittableRandom rng = new SplittableRandom(4);
        int tokens = 70, vocab = 5, dim = 37;
        int[] ids = ints(rng, tokens, vocab);
        float[] dOut = uniform(rng, tokens * dim, 1);
        float[] init = uniform(rng, vocab * dim, 1);
        float[] perColumn = init.clone(), blocked = init.clone();
        for (int c = 0; c < dim; c++) {
            EmbeddingKernels.embeddingBackwardColumns(c, ids, 0, dOut, 0, perColumn, 0, tokens, dim, 1);
        }
        for (int blk = 0; blk < 3; blk++) {
            EmbeddingKernels.embeddingBackwardColumns(blk, ids, 0, dOut, 0, blocked, 0, tokens, dim, 16);
        }
        assertBitsEqual("width 1 vs 16", blocked, perColumn);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            float[] table = new float[12];
            float[] out = poisoned(8);
            assertRejected(() -> ops.embeddingForward(new int[] {0, 2, 3, 1}, 0, table, 0, out, 0, 4, 3, 2),
                    "embeddingForward: ids[2] = 3 is out of range [0, 3)", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0, -1, 1, 1}, 0, table, 0, out, 0, 4, 3, 2),
                    "embeddingForward: ids[1] = -1 is out of range [0, 3)", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0, 1, 9, 2}, 1, table, 0, out, 0, 3, 3, 2),
                    "embeddingForward: ids[1] = 9 is out of range [0, 3)", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0, 1, 2}, 0, table, 0, out, 3, 3, 3, 2),
                    "embeddingForward: out too short: need 6 elements from offset 3, has 8", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0, 1}, 0, table, 0, out, 0, 3, 3, 2),
                    "embeddingForward: ids too short: need 3 elements from offset 0, has 2", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0}, 0, new float[5], 0, out, 0, 1, 3, 2),
                    "embeddingForward: table too short: need 6 elements from offset 0, has 5", out);
            assertRejected(() -> ops.embeddingForward(null, 0, table, 0, out, 0, 1, 3, 2),
                    "embeddingForward: ids is null", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0}, 0, table, 0, out, 0, 0, 3, 2),
                    "embeddingForward: tokens must be at least 1, got 0", out);
            assertRejected(() -> ops.embeddingForward(new int[] {0}, 0, out, 0, out, 2, 1, 2, 2),
                    "embeddingForward: table overlaps out", out);
            float[] dTable = poisoned(6);
            assertRejected(() -> ops.embeddingBackward(new int[] {1, 3}, 0, new float[4], 0, dTable, 0, 2, 3, 2),
                    "embeddingBackward: ids[1] = 3 is out of range [0, 3)", dTable);
            assertRejected(() -> ops.embeddingBackward(new int[] {1, 2}, 0, new float[3], 0, dTable, 0, 2, 3, 2),
                    "embeddingBackward: dOut too short: need 4 elements from offset 0, has 3", dTable);
        }
    }
}
