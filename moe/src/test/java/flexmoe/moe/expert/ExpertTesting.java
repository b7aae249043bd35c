package flexmoe.moe.expert;

import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.TokenBatch;
import java.util.SplittableRandom;

/** Helpers of the expert set-up tests. */
final class ExpertTesting {

    private ExpertTesting() {
    }

    /** B x S random tokens with next-token targets. */
    static TokenBatch batch(ModelConfig c, int b, int s, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] tokens = new int[b * s + 1];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(c.vocabSize());
        }
        int[] inputs = java.util.Arrays.copyOf(tokens, b * s);
        int[] targets = java.util.Arrays.copyOfRange(tokens, 1, b * s + 1);
        return new TokenBatch(inputs, targets, b, s);
    }

    /** A random vector of width d, normal(0, std). */
    static float[] vector(int d, double std, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[d];
        for (int i = 0; i < d; i++) {
            v[i] = (float) (std * rng.nextGaussian());
        }
        return v;
    }
}
