package flexmoe.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A quick run of a backend's operations against the plain kernel bodies on random inputs, for users
 * checking a machine or a device (the unit tests are the thorough version). Each check reports the
 * largest absolute difference and whether it is within the tolerance.
 */
public final class KernelSelfCheck {

    /** One checked operation. */
    public record Result(String kernel, String shape, double maxAbsError, double tolerance) {
        public boolean passed() {
            return maxAbsError <= tolerance;
        }
    }

    private KernelSelfCheck() {
    }

    /** Runs every check on the backend with a fixed seed. */
    public static List<Result> run(Backend backend, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Result> results = new ArrayList<>();
        int[][] shapes = {{67, 45, 129}, {256, 96, 64}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            String shape = m + "x" + n + "x" + k;
            float[] a = random(rng, m * k);
            float[] b = random(rng, k * n);
            double tol = 1e-5 * k;
            float[] c = new float[m * n];
            float[] ref = new float[m * n];

            backend.gemm().matmul(a, 0, b, 0, c, 0, m, n, k, false);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    GemmKernels.matmulCell(i, j, a, 0, b, 0, ref, 0, n, k, false);
                }
            }
            results.add(new Result("matmul", shape, maxAbsDiff(c, ref), tol));

            backend.gemm().matmulNT(a, 0, b, 0, c, 0, m, n, k, false);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    GemmKernels.matmulNTCell(i, j, a, 0, b, 0, ref, 0, n, k, false);
                }
            }
            results.add(new Result("matmulNT", shape, maxAbsDiff(c, ref), tol));

            backend.gemm().matmulTN(a, 0, b, 0, c, 0, m, n, k, false);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    GemmKernels.matmulTNCell(i, j, a, 0, b, 0, ref, 0, m, n, k, false);
                }
            }
            results.add(new Result("matmulTN", shape, maxAbsDiff(c, ref), tol));
        }
        return results;
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Largest |a - b|; NaN anywhere counts as infinitely wrong. */
    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (!(d <= max)) {
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }
}
