package flexmoe.kernels;

/**
 * Rotary position embedding in the rotate-half convention of Hugging Face / OLMo: within each head of width
 * hd, element i is paired with element {@code i + hd/2} and the pair is rotated by {@code pos * theta^(-2i/hd)}.
 * Shapes (row-major): {@code x, y [T, H, hd]} (a [T, D] projection viewed per head), {@code pos [T]},
 * {@code cos, sin [maxPos, hd/2]}.
 *
 * <p>Positions come per token in an int array, not as a scalar: packed sequences and KV-cache generation use
 * the same compiled kernel with different positions (TornadoVM would bake a scalar in). They are validated
 * against maxPos by {@link TransformerOps}.
 */
public final class RopeKernels {

    private RopeKernels() {
    }

    /**
     * Table row for position p: {@code cos[p, i] = cos(p * theta^(-2i/hd))}, likewise sin; both rows OVERWRITTEN.
     * The angle is formed in double: it reaches maxPos radians, where a float angle would be off by ~1e-4 rad.
     * (On TornadoVM, Math.cos/sin are emitted as native float functions unless native functions are disabled.)
     */
    public static void ropeTableRow(int p, float[] cos, float[] sin, int headDim, float theta) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            double invFreq = Math.pow(theta, -(2.0 * i) / headDim);
            double angle = p * invFreq;
            cos[p * half + i] = (float) Math.cos(angle);
            sin[p * half + i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates head h of token t by its position's angle; y (head h of row t) OVERWRITTEN. y may be x at the same
     * offset (in place): each pair is read before it is written.
     */
    public static void ropeForwardHead(int t, int h, float[] x, int xOff, float[] y, int yOff, int[] pos, int posOff,
                                       float[] cos, float[] sin, int heads, int headDim) {
        rotate(t, h, x, xOff, y, yOff, pos, posOff, cos, sin, heads, headDim, 1f);
    }

    /**
     * Backward of {@link #ropeForwardHead}: the rotation is orthogonal, so {@code dx} is dy rotated by the
     * negative angle. dx (head h of row t) OVERWRITTEN (input gradient); dx may be dy at the same offset.
     */
    public static void ropeBackwardHead(int t, int h, float[] dy, int dyOff, float[] dx, int dxOff, int[] pos,
                                        int posOff, float[] cos, float[] sin, int heads, int headDim) {
        rotate(t, h, dy, dyOff, dx, dxOff, pos, posOff, cos, sin, heads, headDim, -1f);
    }

    private static void rotate(int t, int h, float[] x, int xOff, float[] y, int yOff, int[] pos, int posOff,
                               float[] cos, float[] sin, int heads, int headDim, float sign) {
        int half = headDim / 2;
        int base = (t * heads + h) * headDim;
        int tab = pos[posOff + t] * half;
        for (int i = 0; i < half; i++) {
            float c = cos[tab + i];
            float s = sign * sin[tab + i];
            float x1 = x[xOff + base + i];
            float x2 = x[xOff + base + half + i];
            y[yOff + base + i] = x1 * c - x2 * s;
            y[yOff + base + half + i] = x2 * c + x1 * s;
        }
    }
}
