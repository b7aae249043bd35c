package flexmoe.kernels.tornado;

import flexmoe.kernels.GemmKernels;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task10;

/**
 * TornadoVM launchers for {@link GemmKernels}: one work item per output cell. The 2-D form
 * ({@code @Parallel i} and {@code @Parallel j}) is the one that spread over every compute unit on PoCL;
 * a 1-D row loop did not.
 *
 * <p>{@code accumulate} is an {@code int} (0 or 1) here: TornadoVM's OpenCL backend declares a launcher's
 * {@code boolean} parameter as an OpenCL {@code bool} kernel parameter, which OpenCL C forbids
 * ("'__private bool' cannot be used as the type of a kernel parameter"). Bodies may take booleans:
 * they are inlined into the launcher.
 */
public final class GemmLaunchers {

    private GemmLaunchers() {
    }

    /** {@code C[m,n] (+)= A[m,k] B[k,n]}. */
    public static void matmul(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                              int m, int n, int k, int accumulate) {
        for (@Parallel int i = 0; i < m; i++) {
            for (@Parallel int j = 0; j < n; j++) {
                GemmKernels.matmulCell(i, j, a, aOff, b, bOff, c, cOff, n, k, accumulate != 0);
            }
        }
    }

    /** {@code C[m,n] (+)= A[m,k] B[n,k]^T}. */
    public static void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int m, int n, int k, int accumulate) {
        for (@Parallel int i = 0; i < m; i++) {
            for (@Parallel int j = 0; j < n; j++) {
                GemmKernels.matmulNTCell(i, j, a, aOff, b, bOff, c, cOff, n, k, accumulate != 0);
            }
        }
    }

    /** {@code C[m,n] (+)= A[k,m]^T B[k,n]}. */
    public static void matmulTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int m, int n, int k, int accumulate) {
        for (@Parallel int i = 0; i < m; i++) {
            for (@Parallel int j = 0; j < n; j++) {
                GemmKernels.matmulTNCell(i, j, a, aOff, b, bOff, c, cOff, m, n, k, accumulate != 0);
            }
        }
    }

    // Odd sizes (no multiple of a vector width or work-group size) and non-zero offsets; each layout
    // once overwriting and once accumulating, since accumulate is compiled in as a constant.
    // A has M*K and B has K*N elements in every layout.
    private static final int M = 37, N = 29, K = 45, A_OFF = 3, B_OFF = 5, C_OFF = 2;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        for (int accumulate = 0; accumulate <= 1; accumulate++) {
            cases.add(gemm("matmulCell", accumulate, GemmLaunchers::matmul));
            cases.add(gemm("matmulNTCell", accumulate, GemmLaunchers::matmulNT));
            cases.add(gemm("matmulTNCell", accumulate, GemmLaunchers::matmulTN));
        }
        return cases;
    }

    private static DeviceCase gemm(String body, int accumulate,
            Task10<float[], Integer, float[], Integer, float[], Integer, Integer, Integer, Integer, Integer> launcher) {
        return DeviceCase.of(accumulate == 0 ? body : body + ".acc", 1e-4, in -> TaskPackage.createPackage(body,
                launcher, in.floats(A_OFF + M * K), A_OFF, in.floats(B_OFF + K * N), B_OFF,
                in.floats(C_OFF + M * N), C_OFF, M, N, K, accumulate));
    }
}
