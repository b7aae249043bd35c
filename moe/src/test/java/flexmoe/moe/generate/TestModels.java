package flexmoe.moe.generate;

import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import java.util.SplittableRandom;

/** Small models and helpers shared by the generation and evaluation tests. */
public final class TestModels {

    /**
     * Every product of a one-token decode step has more than 4096 multiply-adds (D² = 6400, F·D = 5120,
     * V·D = 5120), so the JVM backend's GEMM never takes its plain-body path for small products, and a row's bits
     * do not depend on how many rows the product has.
     */
    public static final ModelConfig MID = new ModelConfig(64, 80, 2, 2, 64, 16, 500_000, 1e-6, 1, 1, 1e-3, 0, 0.02);

    private TestModels() {
    }

    /** The tiny preset, dense. */
    public static Parameters tinyDense(long seed) {
        return jittered(Parameters.init(ModelConfig.preset("tiny"), seed), seed);
    }

    /** The tiny preset with 3 experts, top-2, negative expert biases. */
    public static Parameters tinyMoe(long seed) {
        return jittered(Parameters.init(ModelConfig.preset("tiny").withExperts(3, 2), seed), seed);
    }

    /**
     * Norm weights away from 1 and expert biases in [-0.3, 0]: so that a forward that skipped a norm or ignored
     * the bias would show. Router rows are scaled up so routing differs between tokens.
     */
    public static Parameters jittered(Parameters p, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (Tensor t : p.tensors()) {
            float[] w = t.data();
            switch (t.kind()) {
                case NORM -> {
                    for (int i = 0; i < w.length; i++) {
                        w[i] += (float) (0.3 * (2 * rng.nextDouble() - 1));
                    }
                }
                case BIAS -> w[0] = (float) (-0.3 * rng.nextDouble());
                case ROUTER -> {
                    for (int i = 0; i < w.length; i++) {
                        w[i] *= 20;
                    }
                }
                default -> {
                }
            }
        }
        return p;
    }

    /** n random token ids in [0, vocab). */
    public static int[] tokens(int vocab, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(vocab);
        }
        return ids;
    }

    /** Largest |got - expected| relative to 1 + the largest |expected|. */
    public static double maxRelativeDiff(float[] got, float[] expected) {
        double scale = 0, worst = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - expected[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst / (1 + scale);
    }
}
