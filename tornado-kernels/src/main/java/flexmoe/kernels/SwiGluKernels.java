package flexmoe.kernels;

/**
 * SwiGLU activation bodies for the expert FFN {@code E(x) = W2 (silu(W1 x) * W3 x)}: the two GEMMs that
 * produce the gate pre-activation {@code a = x W1ᵀ} and the up projection {@code u = x W3ᵀ} and the GEMM
 * with W2 run elsewhere; these bodies do {@code h = silu(a) * u} and its backward, one row per work item.
 *
 * <p>Two layouts: split (a and u in separate [rows, F] blocks) and fused (one [rows, 2F] block per row:
 * gate in columns [0, F), up in [F, 2F)), the latter so W1 and W3 can be stacked into one [2F, D] weight
 * and computed by a single GEMM. Both compute the same bits for the same values.
 *
 * <p>TornadoVM rules followed: no allocation, no {@code Math.fma}, every output element of the row written.
 */
public final class SwiGluKernels {

    private SwiGluKernels() {
    }

    /**
     * Forward, split layout. a [rows, F], u [rows, F] -> h [rows, F] (OVERWRITTEN).
     * {@code h = silu(a) * u}, {@code silu(a) = a * sigmoid(a)}.
     */
    public static void forwardRow(int r, float[] a, int aOff, float[] u, int uOff, float[] h, int hOff, int f) {
        int ar = aOff + r * f;
        int ur = uOff + r * f;
        int hr = hOff + r * f;
        for (int j = 0; j < f; j++) {
            float x = a[ar + j];
            h[hr + j] = x * sigmoid(x) * u[ur + j];
        }
    }

    /**
     * Backward, split layout. a, u, dh [rows, F] -> da, du [rows, F], both OVERWRITTEN (they are
     * per-op intermediates: the GEMM backward that consumes them accumulates into the weights).
     * {@code silu'(a) = s (1 + a (1 - s))} with {@code s = sigmoid(a)}.
     */
    public static void backwardRow(int r, float[] a, int aOff, float[] u, int uOff, float[] dh, int dhOff,
                                   float[] da, int daOff, float[] du, int duOff, int f) {
        int ar = aOff + r * f;
        int ur = uOff + r * f;
        int gr = dhOff + r * f;
        int dar = daOff + r * f;
        int dur = duOff + r * f;
        for (int j = 0; j < f; j++) {
            float x = a[ar + j];
            float s = sigmoid(x);
            float g = dh[gr + j];
            da[dar + j] = g * u[ur + j] * (s * (1f + x * (1f - s)));
            du[dur + j] = g * (x * s);
        }
    }

    /**
     * Forward, fused layout. gu [rows, 2F] (gate | up) -> h [rows, F] (OVERWRITTEN).
     */
    public static void fusedForwardRow(int r, float[] gu, int guOff, float[] h, int hOff, int f) {
        int gr = guOff + r * 2 * f;
        int hr = hOff + r * f;
        for (int j = 0; j < f; j++) {
            float x = gu[gr + j];
            h[hr + j] = x * sigmoid(x) * gu[gr + f + j];
        }
    }

    /**
     * Backward, fused layout. gu [rows, 2F], dh [rows, F] -> dGu [rows, 2F] (OVERWRITTEN; columns
     * [0, F) hold da, [F, 2F) hold du).
     */
    public static void fusedBackwardRow(int r, float[] gu, int guOff, float[] dh, int dhOff,
                                        float[] dGu, int dGuOff, int f) {
        int gr = guOff + r * 2 * f;
        int hr = dhOff + r * f;
        int dr = dGuOff + r * 2 * f;
        for (int j = 0; j < f; j++) {
            float x = gu[gr + j];
            float s = sigmoid(x);
            float g = dh[hr + j];
            dGu[dr + j] = g * gu[gr + f + j] * (s * (1f + x * (1f - s)));
            dGu[dr + f + j] = g * (x * s);
        }
    }

    /**
     * {@code 1 / (1 + e^-x)}. For x below about -88 the exponential overflows to +Inf in float and s
     * becomes exactly 0, which is the right limit (silu(x) = x * 0 = -0, no NaN); for large x, s = 1.
     */
    private static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }
}
