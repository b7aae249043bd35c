package flexmoe.kernels;

/**
 * The elementwise glue between transformer sub-layers: residual add and scaling. Shapes: flat {@code [n]}.
 * One element per work item; the JVM's JIT turns a loop over these into straight-line (vectorised) code.
 */
public final class ResidualKernels {

    private ResidualKernels() {
    }

    /** {@code out[i] = a[i] + b[i]}; OVERWRITTEN. out may be a or b at the same offset ({@code a += b}). */
    public static void add(int i, float[] a, int aOff, float[] b, int bOff, float[] out, int outOff) {
        out[outOff + i] = a[aOff + i] + b[bOff + i];
    }

    /**
     * {@code out[i] = factor[0] * x[i]}; OVERWRITTEN; out may be x at the same offset. The factor sits in a
     * one-element holder because it changes between calls (gradient clipping, loss scaling) and TornadoVM
     * compiles scalar arguments in as constants.
     */
    public static void scale(int i, float[] x, int xOff, float[] factor, float[] out, int outOff) {
        out[outOff + i] = factor[0] * x[xOff + i];
    }
}
