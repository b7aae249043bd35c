package flexmoe.moe.expert;

/**
 * The expert bias b_i of coordinated training (FlexOlmo: added to the expert's router logit as {@code min(b_i, 0)}).
 *
 * <p>Initial value (not stated by the paper; the reference code leaves it uninitialised): {@value #DEFAULT_INIT}.
 * Why: strictly negative, so {@code min(b, 0)} is in its linear region and b gets its full gradient from the first
 * step (at exactly 0 it would get half, PyTorch's tie rule, and any step above 0 would leave it with none); small,
 * so that training, not the init, sets the margin by which the expert must beat the public expert: at the start of
 * coordinated training it changes nothing in the model's output (two identical experts, top-2 of 2, gates summing
 * to 1) and only tilts the gradient split by e^-0.01 (about 1%) towards the public expert, which is frozen anyway.
 *
 * <p>Measured (flexmoe issue 4, quick start): coordinated training shows b_i only domain i, where the expert beats
 * the public FFN, so its gradient pushes b up; from -0.01 it crossed 0 within 400 steps for the math and code experts
 * and then, in min(b, 0)'s flat region, never moved again, so the composed model had no negative margin at all. A
 * margin that survives training needs a more negative init or a smaller rate for b
 * ({@link flexmoe.moe.train.AdamWConfig#withRouterLrScale}).
 *
 * <p>{@link #none()} is the "no bias" ablation: b is pinned to exactly 0 and frozen, so {@code min(0, 0) = 0} adds
 * nothing to the logit and the optimizer never sees it (the tensor still exists: the FlexOlmo layout has one bias
 * per expert; a composed model then carries 0, which is the same as no bias).
 *
 * @param enabled  true: b is trained; false: b is 0 and frozen
 * @param init     the initial value, finite and at most 0 (must be 0 when disabled)
 */
public record ExpertBias(boolean enabled, double init) {

    /** The documented default initial bias. */
    public static final double DEFAULT_INIT = -0.01;

    public ExpertBias {
        if (!Double.isFinite(init) || init > 0) {
            throw new IllegalArgumentException("expert bias init: must be finite and at most 0 (it enters as min(b, 0)),"
                    + " got " + init);
        }
        if (!enabled && init != 0) {
            throw new IllegalArgumentException("expert bias init: must be 0 when the bias is disabled, got " + init);
        }
    }

    /** A trained bias starting at {@link #DEFAULT_INIT}. */
    public static ExpertBias standard() {
        return new ExpertBias(true, DEFAULT_INIT);
    }

    /** A trained bias starting at {@code init} (at most 0). */
    public static ExpertBias trained(double init) {
        return new ExpertBias(true, init);
    }

    /** The ablation without bias (--no-bias): 0, frozen. */
    public static ExpertBias none() {
        return new ExpertBias(false, 0);
    }
}
