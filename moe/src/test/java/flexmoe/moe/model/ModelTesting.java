package flexmoe.moe.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Helpers shared by the model tests. */
public final class ModelTesting {

    private ModelTesting() {
    }

    /** B x S random tokens; targets are the inputs shifted by one, with a few -1 (ignored) positions. */
    static TokenBatch randomBatch(ModelConfig c, int batch, int seq, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int t = batch * seq;
        int[] inputs = new int[t];
        int[] targets = new int[t];
        for (int i = 0; i < t; i++) {
            inputs[i] = rng.nextInt(c.vocabSize());
        }
        for (int i = 0; i < t; i++) {
            boolean lastOfSeq = (i + 1) % seq == 0;
            targets[i] = lastOfSeq ? rng.nextInt(c.vocabSize()) : inputs[i + 1];
            if (rng.nextInt(7) == 0) {
                targets[i] = TokenBatch.IGNORE;
            }
        }
        return new TokenBatch(inputs, targets, batch, seq);
    }

    /** Sets every expert bias to a random value in [lo, hi]. */
    static void setBiases(Parameters p, long seed, double lo, double hi) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Tensor t : p.tensors()) {
            if (t.kind() == Tensor.Kind.BIAS) {
                t.data()[0] = (float) (lo + (hi - lo) * rng.nextDouble());
            }
        }
    }

    /** Adds small noise to the norm weights so they are not all exactly 1 (a stronger check). */
    static void jitterNorms(Parameters p, long seed, double amount) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Tensor t : p.tensors()) {
            if (t.kind() == Tensor.Kind.NORM) {
                float[] w = t.data();
                for (int i = 0; i < w.length; i++) {
                    w[i] += (float) (amount * (2 * rng.nextDouble() - 1));
                }
            }
        }
    }

    /** Copies of every value array, in tensors() order. */
    static List<float[]> snapshot(List<Tensor> tensors) {
        List<float[]> list = new ArrayList<>();
        for (Tensor t : tensors) {
            list.add(t.data().clone());
        }
        return list;
    }

    /** Copies of every gradient array (null for frozen), in order. */
    static List<float[]> grads(List<Tensor> tensors) {
        List<float[]> list = new ArrayList<>();
        for (Tensor t : tensors) {
            list.add(t.grad() == null ? null : t.grad().clone());
        }
        return list;
    }

    static void restore(List<Tensor> tensors, List<float[]> values) {
        for (int i = 0; i < tensors.size(); i++) {
            System.arraycopy(values.get(i), 0, tensors.get(i).data(), 0, values.get(i).length);
        }
    }

    static TokenBatch withoutTargets(TokenBatch b) {
        return new TokenBatch(b.inputs(), null, b.batch(), b.seq());
    }

    /** Same length and the same bits everywhere; names the first differing element and the largest difference. */
    public static void assertBitsEqual(String what, float[] got, float[] expected) {
        if (got.length != expected.length) {
            throw new AssertionError(what + ": length " + got.length + " != " + expected.length);
        }
        int first = -1, count = 0;
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(expected[i])) {
                if (first < 0) {
                    first = i;
                }
                count++;
                worst = Math.max(worst, Math.abs((double) got[i] - expected[i]));
            }
        }
        if (first >= 0) {
            throw new AssertionError(what + ": " + count + " of " + got.length + " elements differ, first [" + first
                    + "] " + got[first] + " != " + expected[first] + ", largest difference " + worst);
        }
    }
}
