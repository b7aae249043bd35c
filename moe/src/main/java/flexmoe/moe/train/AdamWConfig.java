package flexmoe.moe.train;

/**
 * AdamW and clipping settings. Defaults follow OLMo-2 / FlexOlmo: betas (0.9, 0.95), eps 1e-8, global-norm
 * clipping at 1.0. Weight decay is configurable: FlexOlmo's expert training uses 0 (so nothing can drift);
 * where it is non-zero it applies to weight matrices and router rows only, not to the embedding (OLMo-2 dropped
 * embedding decay), norm weights or expert biases.
 *
 * @param beta1        first-moment decay
 * @param beta2        second-moment decay
 * @param eps          denominator epsilon
 * @param weightDecay  decoupled weight decay (multiplied by the learning rate, as PyTorch)
 * @param maxGradNorm  global L2 norm the trainable gradients are clipped to ({@code Infinity}: no clipping)
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay, double maxGradNorm) {

    public AdamWConfig {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("AdamWConfig.beta1: must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamWConfig.beta2: must be in [0, 1), got " + beta2);
        }
        if (!(eps >= 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("AdamWConfig.eps: must be finite and non-negative, got " + eps);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("AdamWConfig.weightDecay: must be finite and non-negative, got "
                    + weightDecay);
        }
        if (!(maxGradNorm > 0)) {
            throw new IllegalArgumentException("AdamWConfig.maxGradNorm: must be positive (Infinity: no clipping), got "
                    + maxGradNorm);
        }
    }

    /** OLMo-2's settings with the given weight decay. */
    public static AdamWConfig olmo2(double weightDecay) {
        return new AdamWConfig(0.9, 0.95, 1e-8, weightDecay, 1.0);
    }

    /** FlexOlmo expert training: OLMo-2's settings, weight decay 0. */
    public static AdamWConfig expertTraining() {
        return olmo2(0);
    }
}
