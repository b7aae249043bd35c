package flexmoe.kernels;

/**
 * Row softmax over the last dimension and its backward. Shapes (row-major): {@code x, y, dy, dx [rows, cols]}.
 * Input gradients are OVERWRITTEN.
 */
public final class SoftmaxKernels {

    private SoftmaxKernels() {
    }

    /**
     * {@code y[r, :] = softmax(x[r, :])}, max-subtracted so large logits cannot overflow exp; y row OVERWRITTEN.
     * y may be x at the same offset (in place). A row of all -inf gives NaN (no valid entry to normalise).
     */
    public static void softmaxRow(int r, float[] x, int xOff, float[] y, int yOff, int cols) {
        int in = xOff + r * cols;
        int out = yOff + r * cols;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[in + c]);
        }
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            float e = (float) Math.exp(x[in + c] - max);
            y[out + c] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int c = 0; c < cols; c++) {
            y[out + c] = y[out + c] * inv;
        }
    }

    /**
     * {@code dx = y * (dy - sum(dy * y))} per row; dx row OVERWRITTEN. dx may be dy or y at the same offset: the
     * row sum is taken before any element is written.
     */
    public static void softmaxBackwardRow(int r, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                          int cols) {
        int yr = yOff + r * cols;
        int gr = dyOff + r * cols;
        int out = dxOff + r * cols;
        float dot = 0f;
        for (int c = 0; c < cols; c++) {
            dot += dy[gr + c] * y[yr + c];
        }
        for (int c = 0; c < cols; c++) {
            dx[out + c] = y[yr + c] * (dy[gr + c] - dot);
        }
    }
}
