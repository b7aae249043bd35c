package flexmoe.kernels.tornado;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * One kernel body checked on a TornadoVM device: the launcher task(s) to run, built on seeded inputs,
 * and the largest absolute difference from plain Java that is accepted.
 *
 * <p>A case only names its launcher and arguments; {@link TornadoBodiesCheck} moves every array
 * argument to the device and back, runs the tasks there, then runs the same launchers as plain Java
 * on the original inputs and compares every array. So a new body needs a launcher method and one
 * {@code DeviceCase.of(...)} entry, nothing else, e.g.
 * <pre>{@code
 * DeviceCase.of("rmsnormRow", 1e-5, in -> TaskPackage.createPackage("rmsnorm", NormLaunchers::rmsnorm,
 *         in.floats(T * D), in.floats(D), in.floats(T * D), T, D))
 * }</pre>
 *
 * <p>Every array starts with the same values on both sides, so the check compares compiled code with Java;
 * that a body writes every element of its outputs is the JVM unit tests' job (NaN-poisoned outputs).
 *
 * @param name      the body's name, as reported ({@code "kernel\tmaxdiff"})
 * @param tolerance largest accepted absolute difference between device and Java, over all arrays
 * @param tasks     builds the tasks (run in order, in one TaskGraph) from seeded inputs
 */
public record DeviceCase(String name, double tolerance, Function<Inputs, List<TaskPackage>> tasks) {

    /** A case with a single launcher task. */
    public static DeviceCase of(String name, double tolerance, Function<Inputs, TaskPackage> task) {
        return new DeviceCase(name, tolerance, in -> List.of(task.apply(in)));
    }

    /** Seeded random inputs for one case. */
    public static final class Inputs {

        private final SplittableRandom rng;

        Inputs(SplittableRandom rng) {
            this.rng = rng;
        }

        /** Uniform in [-scale, scale). */
        public float[] floats(int n, double scale) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
            }
            return x;
        }

        /** Uniform in [-1, 1); also what output arrays start as (device and Java start from the same values). */
        public float[] floats(int n) {
            return floats(n, 1);
        }

        /** Uniform in [0, bound). */
        public int[] ints(int n, int bound) {
            int[] x = new int[n];
            Arrays.setAll(x, i -> rng.nextInt(bound));
            return x;
        }

        /** Holder for values that change between calls (TornadoVM bakes scalars into the kernel). */
        public int[] holder(int... values) {
            return values.clone();
        }

        /** Holder for float values that change between calls (step size, scale). */
        public float[] holder(float... values) {
            return values.clone();
        }
    }
}
