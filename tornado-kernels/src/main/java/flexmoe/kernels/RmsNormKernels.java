package flexmoe.kernels;

/**
 * RMSNorm over the last dimension, {@code y = x * rstd * w} with {@code rstd = 1 / sqrt(mean(x^2) + eps)}. Used
 * for OLMo-2's post-norms and for its QK-norm, which normalises the whole q (or k) projection of width D, not
 * each head. Shapes (row-major): {@code x, y, dx, dy [T, D]}, {@code w, dw [D]}, {@code rstd [T]}.
 *
 * <p>Gradient convention of this group: input gradients (dx) are OVERWRITTEN, parameter gradients (dw)
 * ACCUMULATED.
 */
public final class RmsNormKernels {

    private RmsNormKernels() {
    }

    /**
     * Forward for row t: y row and {@code rstd[t]} OVERWRITTEN; rstd is saved for the backward. Sums of squares
     * in float: D is at most a few thousand and every term is non-negative, so there is no cancellation.
     */
    public static void rmsnormRow(int t, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff,
                                  float[] rstd, int rstdOff, int dim, float eps) {
        int row = xOff + t * dim;
        float ss = 0f;
        for (int c = 0; c < dim; c++) {
            float v = x[row + c];
            ss += v * v;
        }
        float r = 1f / (float) Math.sqrt(ss / dim + eps);
        int out = yOff + t * dim;
        for (int c = 0; c < dim; c++) {
            y[out + c] = x[row + c] * r * w[wOff + c];
        }
        rstd[rstdOff + t] = r;
    }

    /**
     * Input gradient for row t: {@code dx = rstd * (g - xhat * mean(g * xhat))} with {@code g = dy * w} and
     * {@code xhat = x * rstd}. dx row OVERWRITTEN.
     */
    public static void rmsnormBackwardRow(int t, float[] x, int xOff, float[] w, int wOff, float[] rstd, int rstdOff,
                                          float[] dy, int dyOff, float[] dx, int dxOff, int dim) {
        int row = xOff + t * dim;
        int grow = dyOff + t * dim;
        float r = rstd[rstdOff + t];
        float dot = 0f;
        for (int c = 0; c < dim; c++) {
            dot += dy[grow + c] * w[wOff + c] * x[row + c];
        }
        // mean(g * xhat) = r * dot / D; the r * r below folds the second rstd of xhat in.
        float k = dot * r * r / dim;
        int out = dxOff + t * dim;
        for (int c = 0; c < dim; c++) {
            dx[out + c] = r * (dy[grow + c] * w[wOff + c] - x[row + c] * k);
        }
    }

    /**
     * Weight gradient {@code dw[c] += sum_t dy[t, c] * x[t, c] * rstd[t]} for the columns of block {@code block}
     * ({@code [block * width, min(D, (block + 1) * width))}); dw ACCUMULATED. Parallel over columns so the
     * reduction over tokens never races; each dw[c] receives its terms in token order, so the bits do not
     * depend on {@code width}.
     */
    public static void rmsnormWeightGradColumns(int block, float[] x, int xOff, float[] rstd, int rstdOff,
                                                float[] dy, int dyOff, float[] dw, int dwOff, int rows, int dim,
                                                int width) {
        int c0 = block * width;
        int c1 = Math.min(dim, c0 + width);
        for (int t = 0; t < rows; t++) {
            int row = xOff + t * dim;
            int grow = dyOff + t * dim;
            float r = rstd[rstdOff + t];
            for (int c = c0; c < c1; c++) {
                dw[dwOff + c] = dw[dwOff + c] + dy[grow + c] * x[row + c] * r;
            }
        }
    }
}
