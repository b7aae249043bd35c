package flexmoe.kernels.tornado;

import flexmoe.kernels.AdamWKernels;
import flexmoe.kernels.TrainingOps;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * TornadoVM launcher for {@link AdamWKernels}: one work item per parameter element.
 *
 * <p>The launcher is not called {@code step}: TornadoVM names the OpenCL kernel after the launcher method,
 * and {@code step} is an OpenCL C built-in function. PoCL then fails {@code clCreateKernel} with
 * CL_INVALID_KERNEL_NAME (-46) and TornadoVM 5.2.0 goes on to set the arguments of the missing kernel and
 * crashes the JVM in libpocl (SIGSEGV), taking every later case with it. Launcher names carry their group
 * ({@code adamwStep}, {@code crossEntropyForward}) to stay clear of built-ins (step, sign, clamp, mix, dot,
 * min, max, exp, ...).
 */
public final class AdamWLaunchers {

    private AdamWLaunchers() {
    }

    /** One AdamW step over {@code [off, off + n)} of param, m, v (grad read only). */
    public static void adamwStep(float[] param, float[] grad, float[] m, float[] v, int off, int n, float[] hyper) {
        for (@Parallel int i = 0; i < n; i++) {
            AdamWKernels.step(i, param, grad, m, v, off, hyper);
        }
    }

    // An odd element count from a non-zero offset (the elements before it must come back unchanged).
    private static final int N = 1001, OFF = 7;

    // Tolerance 1e-6. The generated code contracts m + w * (g - m) and v * b2 + ((1 - b2) * g) * g into fma
    // (one rounding instead of two; Java never contracts) and takes the square root with OpenCL's native_sqrt
    // (float precision, implementation-defined accuracy: PERF.md rule 4) where the JVM rounds a double sqrt
    // to float: each about an ulp of m, v or the denominator, carried into the update. Parameters are in
    // [-1, 1) (ulp <= 1.2e-7) and move by ~lr = 1e-2 per step: a few ulps is 1e-6. Measured on PoCL: 6e-8.
    // A wrong holder index or a wrong order of decay and update is off by 1e-4 or more.
    private static final double TOL = 1e-6;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        // A mid-training step: random moments, weight decay, the usual betas (lerp weight 0.1: small-weight branch).
        cases.add(DeviceCase.of("adamw.step", TOL, in -> {
            float[] hyper = new float[AdamWKernels.HYPER_SIZE];
            TrainingOps.adamwHyper(hyper, 1e-2, 0.9, 0.95, 1e-8, 0.1, 7);
            return TaskPackage.createPackage("adamw", AdamWLaunchers::adamwStep, in.floats(OFF + N),
                    in.floats(OFF + N, 0.1), in.floats(OFF + N, 0.01), nonNegative(in.floats(OFF + N, 1e-3)), OFF, N,
                    hyper);
        }));
        // Steps 1..3 from zero moments as three tasks of one graph (the holder changes per step), beta1 = 0.3 so
        // the lerp weight 0.7 takes the other branch, no weight decay; a tenth of the gradient is 0 (frozen rows).
        cases.add(new DeviceCase("adamw.step x3", TOL, in -> {
            float[] param = in.floats(OFF + N);
            float[] grad = in.floats(OFF + N, 0.1);
            for (int i = 0; i < grad.length; i += 10) {
                grad[i] = 0f;
            }
            float[] m = new float[OFF + N];
            float[] v = new float[OFF + N];
            List<TaskPackage> tasks = new ArrayList<>();
            for (int step = 1; step <= 3; step++) {
                float[] hyper = new float[AdamWKernels.HYPER_SIZE];
                TrainingOps.adamwHyper(hyper, 1e-2, 0.3, 0.999, 1e-8, 0, step);
                tasks.add(TaskPackage.createPackage("adamw" + step, AdamWLaunchers::adamwStep, param, grad, m, v,
                        OFF, N, hyper));
            }
            return tasks;
        }));
        return cases;
    }

    private static float[] nonNegative(float[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.abs(x[i]);
        }
        return x;
    }
}
