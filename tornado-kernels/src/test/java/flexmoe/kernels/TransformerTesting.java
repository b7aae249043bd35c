package flexmoe.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Helpers shared by the transformer-kernel tests. */
final class TransformerTesting {

    private TransformerTesting() {
    }

    /**
     * The call must fail with an IllegalArgumentException carrying exactly {@code message}, and the given
     * (NaN-poisoned) outputs must still be all NaN: the check ran before any write.
     */
    static void assertRejected(ThrowingCallable call, String message, float[]... untouched) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        for (float[] a : untouched) {
            for (int i = 0; i < a.length; i++) {
                assertThat(Float.isNaN(a[i])).as("%s: element %d was written", message, i).isTrue();
            }
        }
    }

    /** {@code x[off, off + n)} as doubles. */
    static double[] slice(float[] x, int off, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = x[off + i];
        }
        return d;
    }

    /** A copy of {@code x} with {@code pad} NaN elements in front, for testing offsets. */
    static float[] padded(float[] x, int pad) {
        float[] p = new float[pad + x.length];
        java.util.Arrays.fill(p, 0, pad, Float.NaN);
        System.arraycopy(x, 0, p, pad, x.length);
        return p;
    }

    /** As {@link #padded(float[], int)} for ints (padding -1, an invalid id or position). */
    static int[] padded(int[] x, int pad) {
        int[] p = new int[pad + x.length];
        java.util.Arrays.fill(p, 0, pad, -1);
        System.arraycopy(x, 0, p, pad, x.length);
        return p;
    }
}
