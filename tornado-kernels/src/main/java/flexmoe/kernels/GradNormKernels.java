package flexmoe.kernels;

/**
 * Global gradient norm and clipping ({@code torch.nn.utils.clip_grad_norm_} semantics, see
 * {@link TrainingOps#clipFactor}); the clip itself scales in place with {@link ResidualKernels#scale}.
 *
 * <p>The sum of squares is cut into fixed chunks of {@link #CHUNK} elements: one work item per chunk
 * writes {@code partial[c]}, and the host adds the partials in index order. The chunking depends only
 * on the array length, so the bits do not depend on the thread count or the device's work-group size.
 */
public final class GradNormKernels {

    /** Elements per partial sum. */
    public static final int CHUNK = 2048;

    private GradNormKernels() {
    }

    /** Partial sums needed for {@code n} elements. */
    public static int chunks(int n) {
        return (n + CHUNK - 1) / CHUNK;
    }

    /**
     * {@code partial[c] = sum x[off + j]²} over {@code j in [c*CHUNK, min(n, (c+1)*CHUNK))}. Shapes:
     * {@code x [off + n]}, {@code partial [chunks(n)]} OVERWRITTEN. Float accumulation over at most
     * CHUNK non-negative terms (relative error well under 1e-4); the partials are added in double.
     */
    public static void sumSquaresChunk(int c, float[] x, int off, int n, float[] partial) {
        int start = c * CHUNK;
        int end = Math.min(n, start + CHUNK);
        float s = 0f;
        for (int j = start; j < end; j++) {
            float v = x[off + j];
            s += v * v;
        }
        partial[c] = s;
    }
}
