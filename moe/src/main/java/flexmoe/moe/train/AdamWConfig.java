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
 * @param routerLrScale multiplier of the learning rate of router rows ({@link flexmoe.moe.model.Tensor.Kind#ROUTER})
 *                      and expert biases ({@link flexmoe.moe.model.Tensor.Kind#BIAS}), in [0, 1]: 1 is the paper's
 *                      single rate; 0 keeps them at their initial values (see {@link #withRouterLrScale})
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay, double maxGradNorm,
                          double routerLrScale) {

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
        if (!(routerLrScale >= 0 && routerLrScale <= 1)) {
            throw new IllegalArgumentException("AdamWConfig.routerLrScale: must be in [0, 1], got " + routerLrScale);
        }
    }

    /** One learning rate for every tensor (router scale 1). */
    public AdamWConfig(double beta1, double beta2, double eps, double weightDecay, double maxGradNorm) {
        this(beta1, beta2, eps, weightDecay, maxGradNorm, 1);
    }

    /**
     * The same settings with the router rows and expert biases at {@code scale} times the learning rate.
     *
     * <p>Why (FlexOlmo expert training at small scale, flexmoe issue 4): in coordinated training r_i and b_i only see
     * domain i, where the expert beats the frozen public FFN, so every step raises the expert's logit on every token
     * of it; the gradient of r_i is a mean of router inputs, which at our scale is dominated by the direction all
     * hidden states share, so r_i grows along it and, once composed, the expert that helped most wins on every
     * domain. A smaller rate keeps r_i near its domain-embedding init, which is what makes the composed router
     * discriminate. The paper uses one rate for everything; 1 reproduces it.
     */
    public AdamWConfig withRouterLrScale(double scale) {
        return new AdamWConfig(beta1, beta2, eps, weightDecay, maxGradNorm, scale);
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
