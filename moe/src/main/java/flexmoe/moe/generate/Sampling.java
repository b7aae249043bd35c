package flexmoe.moe.generate;

/**
 * How {@link Generator} picks each next token, in Hugging Face's order: logits divided by the temperature,
 * softmax, keep the {@code topK} most probable tokens, renormalise, keep the smallest set of the most probable
 * whose probability reaches {@code topP} (nucleus), renormalise, draw. Ties between equal probabilities go to the
 * lower token id, so the kept set is well defined.
 *
 * @param temperature  0 for greedy decoding (the most probable token, ties to the lower id), else in
 *                     [{@value #MIN_TEMPERATURE}, {@value #MAX_TEMPERATURE}]
 * @param topK         tokens kept before the draw; 0 keeps all (FlexOlmo's extraction attack: 50)
 * @param topP         nucleus mass in (0, 1]; 1 keeps all (the extraction attack: 0.95)
 * @param maxNewTokens most tokens generated per sample, at least 1
 * @param seed         seeds the draws: the same seed, prompt, sample count and model give the same tokens
 */
public record Sampling(double temperature, int topK, double topP, int maxNewTokens, long seed) {

    /** Below this, 1 / temperature is so large that the draw is greedy in all but name. */
    public static final double MIN_TEMPERATURE = 1e-4;
    public static final double MAX_TEMPERATURE = 1e4;

    public Sampling {
        if (!(temperature == 0 || temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or in [" + MIN_TEMPERATURE + ", "
                    + MAX_TEMPERATURE + "], got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be 0 (off) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
    }

    /** Greedy decoding of at most {@code maxNewTokens} tokens. */
    public static Sampling greedy(int maxNewTokens) {
        return new Sampling(0, 0, 1, maxNewTokens, 0);
    }

    /** Plain sampling from the model's distribution (temperature 1, no truncation). */
    public static Sampling sample(int maxNewTokens, long seed) {
        return new Sampling(1, 0, 1, maxNewTokens, seed);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
