package flexmoe.kernels;

/**
 * Argument checks shared by every backend, run before a kernel touches memory. Messages name the
 * argument and say what was expected, e.g. {@code "rmsnormForward: x too short: need 4096 floats from
 * offset 0, has 4095"}.
 */
public final class KernelArgs {

    private KernelArgs() {
    }

    /** Dimensions must be at least 1. */
    public static void positive(String op, String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(op + ": " + name + " must be at least 1, got " + value);
        }
    }

    /** Dimensions that may be zero (an expert that received no tokens). */
    public static void nonNegative(String op, String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(op + ": " + name + " must be non-negative, got " + value);
        }
    }

    /** {@code array[offset, offset + need)} must exist. */
    public static void length(String op, String name, float[] array, int offset, long need) {
        notNull(op, name, array);
        check(op, name, array.length, offset, need);
    }

    /** {@code array[offset, offset + need)} must exist. */
    public static void length(String op, String name, int[] array, int offset, long need) {
        notNull(op, name, array);
        check(op, name, array.length, offset, need);
    }

    /** {@code array[0, need)} must exist. */
    public static void length(String op, String name, float[] array, long need) {
        length(op, name, array, 0, need);
    }

    /** {@code array[0, need)} must exist. */
    public static void length(String op, String name, int[] array, long need) {
        length(op, name, array, 0, need);
    }

    /** Product of dimensions, checked against int overflow (Java arrays are int-indexed). */
    public static long size(String op, long... dims) {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": tensor of " + n + " elements exceeds a Java array");
        }
        return n;
    }

    /** A condition on the arguments, with the message to give when it fails. */
    public static void require(boolean condition, String op, String message) {
        if (!condition) {
            throw new IllegalArgumentException(op + ": " + message);
        }
    }

    private static void notNull(String op, String name, Object array) {
        if (array == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
    }

    private static void check(String op, String name, int length, int offset, long need) {
        if (offset < 0) {
            throw new IllegalArgumentException(op + ": " + name + " offset must be non-negative, got " + offset);
        }
        if (offset + need > length) {
            throw new IllegalArgumentException(op + ": " + name + " too short: need " + need
                    + " elements from offset " + offset + ", has " + length);
        }
    }
}
