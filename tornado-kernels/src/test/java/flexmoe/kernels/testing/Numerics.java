package flexmoe.kernels.testing;

import static org.assertj.core.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Shared numerics for kernel tests: seeded random inputs, NaN poisoning of outputs, float64 finite
 * differences and tolerance checks that name the first bad element.
 */
public final class Numerics {

    private Numerics() {
    }

    /** Uniform values in {@code [-scale, scale)} from a seeded generator. */
    public static float[] uniform(SplittableRandom rng, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }

    /** Ints uniform in {@code [0, bound)}. */
    public static int[] ints(SplittableRandom rng, int n, int bound) {
        int[] x = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextInt(bound);
        }
        return x;
    }

    /** An output buffer filled with NaN, so any element a kernel fails to write is caught. */
    public static float[] poisoned(int n) {
        float[] x = new float[n];
        Arrays.fill(x, Float.NaN);
        return x;
    }

    /** Fills existing buffers with NaN. */
    public static void poison(float[]... arrays) {
        for (float[] a : arrays) {
            Arrays.fill(a, Float.NaN);
        }
    }

    public static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    /**
     * Central finite differences of a scalar float64 function: {@code (f(x+h e_i) - f(x-h e_i)) / 2h}
     * for every i. {@code x} is restored afterwards.
     */
    public static double[] centralDifference(ToDoubleFunction<double[]> f, double[] x, double h) {
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + h;
            double plus = f.applyAsDouble(x);
            x[i] = saved - h;
            double minus = f.applyAsDouble(x);
            x[i] = saved;
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    /** {@code sum_i a[i] * w[i]}: turns a tensor-valued function into the scalar a gradient check needs. */
    public static double dot(double[] a, double[] w) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * w[i];
        }
        return s;
    }

    /**
     * Asserts {@code |actual - expected| <= atol + rtol * |expected|} element-wise, and that nothing is
     * NaN or infinite (an unwritten, poisoned element fails here).
     */
    public static void assertClose(String what, float[] actual, double[] expected, double atol, double rtol) {
        assertClose(what, actual, 0, expected, 0, expected.length, atol, rtol);
    }

    /** As {@link #assertClose(String, float[], double[], double, double)} over a sub-range. */
    public static void assertClose(String what, float[] actual, int aOff, double[] expected, int eOff, int n,
                                   double atol, double rtol) {
        for (int i = 0; i < n; i++) {
            double a = actual[aOff + i];
            double e = expected[eOff + i];
            if (!Double.isFinite(a) || Math.abs(a - e) > atol + rtol * Math.abs(e)) {
                fail("%s: element %d is %s, expected %s (atol %s, rtol %s)", what, i, a, e, atol, rtol);
            }
        }
    }

    /** As above against a float reference (an optimised kernel against the plain body). */
    public static void assertClose(String what, float[] actual, float[] expected, double atol, double rtol) {
        assertClose(what, actual, toDouble(expected), atol, rtol);
    }

    /** Bit-for-bit equality, naming the first differing element. */
    public static void assertBitsEqual(String what, float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            fail("%s: length %d, expected %d", what, actual.length, expected.length);
        }
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                fail("%s: element %d is %s, expected bit-identical %s", what, i, actual[i], expected[i]);
            }
        }
    }

    /** {@code x[off, off + n)} as float64 (a sub-array handed to a float64 reference). */
    public static double[] slice(float[] x, int off, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = x[off + i];
        }
        return d;
    }

    /** {@code a + b} element-wise in float64: the expected value of a gradient accumulated onto {@code a}. */
    public static double[] plus(float[] a, double[] b) {
        double[] c = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            c[i] = a[i] + b[i];
        }
        return c;
    }

    /** The arrays end to end, so several outputs can be compared in one {@link #assertBitsEqual} call. */
    public static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
