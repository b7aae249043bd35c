package flexmoe.kernels;

/**
 * The training-step operations around the model: the LM loss, the optimizer, gradient clipping and the
 * per-example gradient norms DP-SGD clips with. Bodies: {@link CrossEntropyKernels}, {@link AdamWKernels},
 * {@link GradNormKernels}, {@link PerExampleNormKernels}.
 *
 * <p>Arrays are row-major; every operation validates all its arguments (the static {@code check*}
 * methods here) before touching memory. Results are bit-identical whatever the thread count.
 */
public interface TrainingOps {

    // ---- cross-entropy --------------------------------------------------------------------------

    /**
     * Per-token loss {@code loss[t] = lse_t - x[t, y_t] + zLossWeight * lse_t²} and {@code lse[t]}; a target
     * of -1 gives loss 0 (its lse is still written). Shapes: {@code logits [tokens, vocab]},
     * {@code targets [tokens]} in [-1, vocab), {@code loss [tokens]}, {@code lse [tokens]}, both overwritten.
     * {@code zLossWeight >= 0} (0: plain cross-entropy; OLMo-core uses 1e-5 for expert training).
     */
    void crossEntropyForward(float[] logits, int[] targets, int tokens, int vocab, float zLossWeight,
                             float[] loss, float[] lse);

    /**
     * Mean of {@code loss[t]} over the tokens whose target is not -1, summed in index order in double.
     * Returns 0 when every target is -1 (PyTorch returns NaN; a Poisson-sampled DP batch may be empty).
     */
    double meanLoss(float[] loss, int[] targets, int tokens);

    /**
     * {@code dlogits[t, :] = scale[0] * ((softmax - onehot) + zLossWeight * 2 lse_t * softmax)}, zero rows
     * for ignored tokens; OVERWRITTEN. {@code lse} comes from {@link #crossEntropyForward} on the same
     * logits and weight; {@code scale [1]} is dLoss/dloss_t, e.g. {@code 1 / validTokens} for the mean.
     * {@code dlogits} may be the same array as {@code logits} (in place: the logits are destroyed).
     */
    void crossEntropyBackward(float[] logits, int[] targets, float[] lse, int tokens, int vocab, float zLossWeight,
                              float[] scale, float[] dlogits);

    /** Tokens whose target is not -1 (the usual denominator of the mean loss). */
    static int validTokens(int[] targets, int tokens) {
        KernelArgs.nonNegative("validTokens", "tokens", tokens);
        KernelArgs.length("validTokens", "targets", targets, tokens);
        int n = 0;
        for (int t = 0; t < tokens; t++) {
            if (targets[t] != CrossEntropyKernels.IGNORE) {
                n++;
            }
        }
        return n;
    }

    static void checkCrossEntropy(String op, float[] logits, int[] targets, int tokens, int vocab,
                                  float zLossWeight) {
        KernelArgs.positive(op, "tokens", tokens);
        KernelArgs.positive(op, "vocab", vocab);
        KernelArgs.length(op, "logits", logits, KernelArgs.size(op, tokens, vocab));
        KernelArgs.length(op, "targets", targets, tokens);
        KernelArgs.require(zLossWeight >= 0 && Float.isFinite(zLossWeight), op,
                "zLossWeight must be finite and non-negative, got " + zLossWeight);
        for (int t = 0; t < tokens; t++) {
            int y = targets[t];
            if (y < CrossEntropyKernels.IGNORE || y >= vocab) {
                throw new IllegalArgumentException(op + ": targets[" + t + "] = " + y + " out of range [-1, "
                        + vocab + ")");
            }
        }
    }

    // ---- AdamW ----------------------------------------------------------------------------------

    /**
     * One AdamW step over {@code [off, off + n)} of {@code param}, {@code grad}, {@code m}, {@code v}
     * (PyTorch's order of operations, see {@link AdamWKernels}); param, m, v updated in place, grad read.
     * {@code hyper [AdamWKernels.HYPER_SIZE]} is filled by {@link #adamwHyper} for the step.
     */
    void adamwStep(float[] param, float[] grad, float[] m, float[] v, int off, int n, float[] hyper);

    /**
     * Fills the AdamW holder for step {@code step} (1 for the first update, as PyTorch counts): bias
     * corrections and step size computed in double, then rounded to float.
     */
    static void adamwHyper(float[] hyper, double lr, double beta1, double beta2, double eps, double weightDecay,
                           long step) {
        String op = "adamwHyper";
        KernelArgs.length(op, "hyper", hyper, AdamWKernels.HYPER_SIZE);
        KernelArgs.require(step >= 1, op, "step must be at least 1, got " + step);
        KernelArgs.require(lr >= 0 && Double.isFinite(lr), op, "lr must be finite and non-negative, got " + lr);
        KernelArgs.require(beta1 >= 0 && beta1 < 1, op, "beta1 must be in [0, 1), got " + beta1);
        KernelArgs.require(beta2 >= 0 && beta2 < 1, op, "beta2 must be in [0, 1), got " + beta2);
        KernelArgs.require(eps >= 0 && Double.isFinite(eps), op, "eps must be finite and non-negative, got " + eps);
        KernelArgs.require(weightDecay >= 0 && Double.isFinite(weightDecay), op,
                "weightDecay must be finite and non-negative, got " + weightDecay);
        hyper[AdamWKernels.ONE_MINUS_BETA1] = (float) (1 - beta1);
        hyper[AdamWKernels.BETA2] = (float) beta2;
        hyper[AdamWKernels.ONE_MINUS_BETA2] = (float) (1 - beta2);
        hyper[AdamWKernels.EPS] = (float) eps;
        hyper[AdamWKernels.DECAY] = (float) (1 - lr * weightDecay);
        hyper[AdamWKernels.STEP_SIZE] = (float) (lr / (1 - Math.pow(beta1, step)));
        hyper[AdamWKernels.BC2_SQRT] = (float) Math.sqrt(1 - Math.pow(beta2, step));
    }

    static void checkAdamw(float[] param, float[] grad, float[] m, float[] v, int off, int n, float[] hyper) {
        String op = "adamwStep";
        KernelArgs.positive(op, "n", n);
        KernelArgs.length(op, "param", param, off, n);
        KernelArgs.length(op, "grad", grad, off, n);
        KernelArgs.length(op, "m", m, off, n);
        KernelArgs.length(op, "v", v, off, n);
        KernelArgs.length(op, "hyper", hyper, AdamWKernels.HYPER_SIZE);
        KernelArgs.require(param != grad && param != m && param != v && grad != m && grad != v && m != v, op,
                "param, grad, m and v must be four different arrays");
    }

    // ---- gradient norm and clipping -------------------------------------------------------------

    /** {@code Σ x[off + j]²} over {@code j in [0, n)}: fixed chunk partial sums added in index order. */
    double sumSquares(float[] x, int off, int n);

    /** Global L2 norm over whole arrays: {@code sqrt(Σ_arrays sumSquares)}, arrays in list order. */
    double globalNorm(float[][] grads);

    /** {@code x[off + j] *= factor[0]} for {@code j in [0, n)}. */
    void scale(float[] x, int off, int n, float[] factor);

    /**
     * {@code torch.nn.utils.clip_grad_norm_}: computes the global norm, scales every array in place by
     * {@link #clipFactor} and returns the norm before clipping. Arrays are left untouched when the factor
     * is 1 (multiplying by 1 would not change a bit either).
     */
    double clipGradNorm(float[][] grads, double maxNorm);

    /**
     * {@code min(1, maxNorm / (norm + 1e-6))}, as PyTorch's clip_grad_norm_ (and Opacus' per-example clip):
     * the 1e-6 keeps a zero norm finite, and a norm just below maxNorm still scales by a hair under 1. A
     * NaN or infinite norm gives NaN or 0, as in PyTorch (error_if_nonfinite=False).
     */
    static float clipFactor(double norm, double maxNorm) {
        return (float) Math.min(1.0, maxNorm / (norm + 1e-6));
    }

    static void checkGrads(String op, float[][] grads) {
        KernelArgs.require(grads != null, op, "grads is null");
        for (int i = 0; i < grads.length; i++) {
            KernelArgs.require(grads[i] != null, op, "grads[" + i + "] is null");
        }
    }

    // ---- per-example gradient norms (DP) --------------------------------------------------------

    /**
     * Ghost norms: {@code norm2[i] (+)= Σ_{s,t in seg i} (a_s·a_t)(g_s·g_t) = ‖G_iᵀA_i‖_F²}. Shapes:
     * {@code a [aOff + rows*din]}, {@code g [gOff + rows*dout]}, {@code seg [examples + 1]} non-decreasing
     * with {@code 0 <= seg[0]} and {@code seg[examples] <= rows}, {@code norm2 [examples]} overwritten or, with
     * {@code accumulate}, added to. {@code scratch [ghostScratchSize(rows)]}.
     */
    void ghostNorm2(float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout, int[] seg, int examples,
                    float[] norm2, boolean accumulate, float[] scratch);

    /** The same value by forming each {@code G_iᵀA_i} row; {@code scratch [directScratchSize(...)]}. */
    void directNorm2(float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout, int[] seg, int examples,
                     float[] norm2, boolean accumulate, float[] scratch);

    /**
     * Ghost or direct by {@link #useGhost}; {@code scratch [perExampleNormScratchSize(...)]} (the size for the
     * chosen form).
     */
    default void perExampleNorm2(float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout, int[] seg,
                                 int examples, float[] norm2, boolean accumulate, float[] scratch) {
        checkPerExampleNorm("perExampleNorm2", a, aOff, g, gOff, rows, din, dout, seg, examples, norm2, scratch, -1);
        if (useGhost(seg, examples, din, dout)) {
            ghostNorm2(a, aOff, g, gOff, rows, din, dout, seg, examples, norm2, accumulate, scratch);
        } else {
            directNorm2(a, aOff, g, gOff, rows, din, dout, seg, examples, norm2, accumulate, scratch);
        }
    }

    /**
     * Bu et al.'s rule with T the longest segment: ghost when {@code 2T² < din·dout} (its Gram work and
     * memory per example are then below one materialised gradient's). {@code seg} must be valid.
     */
    static boolean useGhost(int[] seg, int examples, int din, int dout) {
        long maxT = 0;
        for (int i = 0; i < examples; i++) {
            maxT = Math.max(maxT, seg[i + 1] - seg[i]);
        }
        return 2 * maxT * maxT < (long) din * dout;
    }

    /** Scratch floats {@link #ghostNorm2} needs: one share per row. */
    static long ghostScratchSize(int rows) {
        return rows;
    }

    /** Scratch floats {@link #directNorm2} needs: one [din] row per output row, then [examples, dout] sums. */
    static long directScratchSize(int examples, int din, int dout) {
        return (long) dout * din + (long) examples * dout;
    }

    /** Scratch floats {@link #perExampleNorm2} needs for the form it will choose. */
    static long perExampleNormScratchSize(int[] seg, int examples, int rows, int din, int dout) {
        return useGhost(seg, examples, din, dout) ? ghostScratchSize(rows) : directScratchSize(examples, din, dout);
    }

    /**
     * Checks of the per-example norm ops; {@code scratchNeed} is the scratch size the op needs, or -1 to
     * compute it from the chosen form.
     */
    static void checkPerExampleNorm(String op, float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout,
                                    int[] seg, int examples, float[] norm2, float[] scratch, long scratchNeed) {
        KernelArgs.nonNegative(op, "rows", rows);
        KernelArgs.positive(op, "din", din);
        KernelArgs.positive(op, "dout", dout);
        KernelArgs.nonNegative(op, "examples", examples);
        KernelArgs.length(op, "a", a, aOff, KernelArgs.size(op, rows, din));
        KernelArgs.length(op, "g", g, gOff, KernelArgs.size(op, rows, dout));
        KernelArgs.length(op, "seg", seg, (long) examples + 1);
        KernelArgs.length(op, "norm2", norm2, examples);
        KernelArgs.require(seg[0] >= 0, op, "seg[0] must be non-negative, got " + seg[0]);
        for (int i = 0; i < examples; i++) {
            if (seg[i + 1] < seg[i]) {
                throw new IllegalArgumentException(op + ": seg not monotone: seg[" + i + "] = " + seg[i]
                        + " > seg[" + (i + 1) + "] = " + seg[i + 1]);
            }
        }
        KernelArgs.require(seg[examples] <= rows, op,
                "seg[" + examples + "] = " + seg[examples] + " exceeds rows " + rows);
        long need = scratchNeed >= 0 ? scratchNeed : perExampleNormScratchSize(seg, examples, rows, din, dout);
        KernelArgs.length(op, "scratch", scratch, KernelArgs.size(op, need));
        KernelArgs.require(scratch != a && scratch != g && scratch != norm2 && norm2 != a && norm2 != g, op,
                "norm2 and scratch must not share an array with a, g or each other");
    }
}
