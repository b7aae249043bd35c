package flexmoe.moe.model;

import java.util.Arrays;

/**
 * One named parameter tensor: its values ({@code float[]}, row-major), its shape, and, while it is
 * trainable, a gradient buffer of the same size.
 *
 * <p>Each tensor owns its own array (no slices of one giant buffer) so that experts, router rows and
 * biases can be moved between models (upcycle, compose, opt-out) as objects. A frozen tensor has no
 * gradient buffer at all: the model then skips its weight-gradient work rather than computing and
 * discarding it (FlexOlmo expert training freezes everything but one expert).
 */
public final class Tensor {

    /** What a tensor is, for init, weight decay and the per-kind gradient checks. */
    public enum Kind {
        /** The token embedding table [V, D]. */
        EMBEDDING,
        /** A linear layer's weight [out, in] (attention projections, expert FFNs, the LM head). */
        LINEAR,
        /** An RMSNorm weight [D]. */
        NORM,
        /** One router embedding row r_e [D]. */
        ROUTER,
        /** One expert bias b_e [1], applied as min(b_e, 0). */
        BIAS
    }

    private final String name;
    private final int[] shape;
    private final Kind kind;
    private final float[] data;
    private float[] grad;

    /** A tensor over {@code data} (not copied); frozen until {@link #setTrainable}. */
    public Tensor(String name, Kind kind, float[] data, int... shape) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("Tensor: name is empty");
        }
        if (kind == null || data == null) {
            throw new IllegalArgumentException("Tensor " + name + ": kind and data are required");
        }
        long size = 1;
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("Tensor " + name + ": shape " + Arrays.toString(shape)
                        + " has a dimension below 1");
            }
            size *= d;
        }
        if (size != data.length) {
            throw new IllegalArgumentException("Tensor " + name + ": shape " + Arrays.toString(shape) + " needs "
                    + size + " values, data has " + data.length);
        }
        this.name = name;
        this.kind = kind;
        this.shape = shape.clone();
        this.data = data;
    }

    /** A zero tensor of the given shape. */
    public static Tensor zeros(String name, Kind kind, int... shape) {
        long size = 1;
        for (int d : shape) {
            size *= Math.max(d, 0);
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Tensor " + name + ": " + size + " elements exceed a Java array");
        }
        return new Tensor(name, kind, new float[(int) size], shape);
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    public int size() {
        return data.length;
    }

    /** The values, live: writing them changes the model. */
    public float[] data() {
        return data;
    }

    /** The gradient buffer (accumulated by backward), or null while the tensor is frozen. */
    public float[] grad() {
        return grad;
    }

    public boolean trainable() {
        return grad != null;
    }

    /**
     * Makes the tensor trainable (a zeroed gradient buffer, kept if it already has one) or frozen (the buffer
     * is dropped, so no backward can write it).
     */
    public void setTrainable(boolean trainable) {
        if (trainable && grad == null) {
            grad = new float[data.length];
        } else if (!trainable) {
            grad = null;
        }
    }

    /** Zeroes the gradient buffer, if any (once per step: backward accumulates). */
    public void zeroGrad() {
        if (grad != null) {
            Arrays.fill(grad, 0f);
        }
    }

    /** A frozen copy of the values under another name (moving an expert to another index). */
    public Tensor copyAs(String newName) {
        return new Tensor(newName, kind, data.clone(), shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (trainable() ? " trainable" : " frozen");
    }
}
