package flexmoe.kernels;

/**
 * AdamW step with decoupled weight decay, in PyTorch's order of operations ({@code torch.optim.AdamW},
 * single-tensor and foreach paths), one parameter element per work item:
 * <pre>
 *   p = p * (1 - lr * wd)                      decay first, on the old p (skipped by PyTorch when wd == 0;
 *                                              here p * 1.0f, which leaves every bit unchanged)
 *   m = lerp(m, g, 1 - b1)                     = m + (1-b1) (g - m), ATen's two-branch lerp
 *   v = v * b2 + ((1 - b2) * g) * g            mul_ then addcmul_
 *   denom = sqrt(v) / sqrt(1 - b2^step) + eps
 *   p = p - (lr / (1 - b1^step)) * m / denom   addcdiv_ with value = -step_size
 * </pre>
 * which is {@code p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p_old)} up to rounding. The per-step scalars
 * (bias corrections, step size, decay factor) are computed on the host in double, as PyTorch does in
 * Python floats, and passed rounded to float in a holder ({@link TrainingOps#adamwHyper}); TornadoVM
 * would otherwise bake the step number into the compiled kernel.
 *
 * <p>With {@code wd = 0}, {@code g = 0} and zero moments the parameter keeps every bit (m and v stay 0,
 * the update is {@code 0 / eps = 0}): FlexOlmo's frozen parts rely on that.
 */
public final class AdamWKernels {

    /** Holder index: {@code 1 - b1} (the lerp weight). */
    public static final int ONE_MINUS_BETA1 = 0;
    /** Holder index: {@code b2}. */
    public static final int BETA2 = 1;
    /** Holder index: {@code 1 - b2}. */
    public static final int ONE_MINUS_BETA2 = 2;
    /** Holder index: {@code eps}. */
    public static final int EPS = 3;
    /** Holder index: {@code 1 - lr * wd}. */
    public static final int DECAY = 4;
    /** Holder index: {@code lr / (1 - b1^step)}. */
    public static final int STEP_SIZE = 5;
    /** Holder index: {@code sqrt(1 - b2^step)}. */
    public static final int BC2_SQRT = 6;
    /** Holder length. */
    public static final int HYPER_SIZE = 7;

    private AdamWKernels() {
    }

    /**
     * One element {@code off + i}. Shapes: {@code param, grad, m, v} [off + n]; {@code hyper [HYPER_SIZE]}.
     * {@code param}, {@code m}, {@code v} are updated in place (OVERWRITTEN with their new values);
     * {@code grad} is only read.
     */
    public static void step(int i, float[] param, float[] grad, float[] m, float[] v, int off, float[] hyper) {
        int k = off + i;
        float g = grad[k];
        float p = param[k] * hyper[DECAY];
        float w = hyper[ONE_MINUS_BETA1];
        float mOld = m[k];
        // ATen's lerp: the small-weight branch is accurate near w = 0, the other near w = 1.
        float mNew = Math.abs(w) < 0.5f ? mOld + w * (g - mOld) : g - (g - mOld) * (1f - w);
        float vNew = v[k] * hyper[BETA2] + hyper[ONE_MINUS_BETA2] * g * g;
        float denom = (float) Math.sqrt(vNew) / hyper[BC2_SQRT] + hyper[EPS];
        m[k] = mNew;
        v[k] = vNew;
        param[k] = p - hyper[STEP_SIZE] * mNew / denom;
    }
}
