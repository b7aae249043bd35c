package flexmoe.kernels;

import static flexmoe.kernels.TransformerTesting.assertRejected;
import static flexmoe.kernels.TransformerTesting.padded;
import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.assertClose;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Residual add and scale. Both are linear with an obvious gradient (identity, the factor), which callers get
 * from these same ops, so there is no separate backward to difference.
 */
class ResidualTest {

    private static final int[] SIZES = {1, 7, 17, 100, 257};

    @Test
    void addAndScaleMatchFloat64ReferenceOutOfPlaceAndInPlace() {
        SplittableRandom rng = new SplittableRandom(1);
        try (Backend backend = Backends.create("jvm", 2)) {
            TransformerOps ops = backend.transformer();
            for (int n : SIZES) {
                float[] a = padded(uniform(rng, n, 1), 1), b = padded(uniform(rng, n, 1), 2);
                double[] sum = new double[n], scaled = new double[n];
                float factor = -0.37f;
                for (int i = 0; i < n; i++) {
                    sum[i] = (double) a[1 + i] + b[2 + i];
                    scaled[i] = (double) factor * a[1 + i];
                }
                float[] out = poisoned(3 + n);
                ops.add(a, 1, b, 2, out, 3, n);
                assertClose("add " + n, out, 3, sum, 0, n, 0, 1e-7);
                ops.scale(a, 1, factor, out, 3, n);
                assertClose("scale " + n, out, 3, scaled, 0, n, 0, 1e-7);

                float[] acc = a.clone();
                ops.add(acc, 1, b, 2, acc, 1, n);
                assertClose("a += b " + n, acc, 1, sum, 0, n, 0, 1e-7);
                float[] acc2 = b.clone();
                ops.add(a, 1, acc2, 2, acc2, 2, n);
                assertClose("b = a + b " + n, acc2, 2, sum, 0, n, 0, 1e-7);
                ops.scale(a, 1, factor, a, 1, n);
                assertClose("x *= f " + n, a, 1, scaled, 0, n, 0, 1e-7);
            }
        }
    }

    @Test
    void sameBitsWithOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(2);
        int n = 300_001;
        float[] a = uniform(rng, n, 1), b = uniform(rng, n, 1);
        float[][] sum = new float[2][], scaled = new float[2][];
        for (int threads = 1; threads <= 2; threads++) {
            sum[threads - 1] = poisoned(n);
            scaled[threads - 1] = poisoned(n);
            try (Backend backend = Backends.create("jvm", threads)) {
                backend.transformer().add(a, 0, b, 0, sum[threads - 1], 0, n);
                backend.transformer().scale(a, 0, 1.7f, scaled[threads - 1], 0, n);
            }
        }
        assertBitsEqual("add", sum[1], sum[0]);
        assertBitsEqual("scale", scaled[1], scaled[0]);
    }

    @Test
    void badArgumentsFailBeforeTouchingMemory() {
        try (Backend backend = Backends.create("jvm", 1)) {
            TransformerOps ops = backend.transformer();
            float[] out = poisoned(8);
            assertRejected(() -> ops.add(new float[8], 0, new float[7], 0, out, 0, 8),
                    "add: b too short: need 8 elements from offset 0, has 7", out);
            assertRejected(() -> ops.add(new float[8], 0, new float[8], 0, out, 0, 0),
                    "add: n must be at least 1, got 0", out);
            assertRejected(() -> ops.add(out, 0, new float[8], 0, out, 2, 4),
                    "add: out partially overlaps a (in place needs the same offset)", out);
            assertRejected(() -> ops.scale(new float[8], 1, 2f, out, 0, 8),
                    "scale: x too short: need 8 elements from offset 1, has 8", out);
            assertRejected(() -> ops.scale(out, 3, 2f, out, 0, 4),
                    "scale: out partially overlaps x (in place needs the same offset)", out);
        }
    }
}
