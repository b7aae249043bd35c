package flexmoe.kernels;

/**
 * Plain GEMM bodies: one output cell per work item (the 2-D parallel form, which TornadoVM maps onto
 * both dimensions of a device). They are the reference every optimised GEMM is tested against.
 *
 * <p>Shapes: C is [m, n] row-major; A and B as named by the layout (see {@link GemmOps}).
 * TornadoVM rules followed: no allocation, no {@code Math.fma}, every C cell written.
 */
public final class GemmKernels {

    private GemmKernels() {
    }

    /** {@code C[i,j] (+)= sum_p A[i,p] B[p,j]}. */
    public static void matmulCell(int i, int j, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                  int n, int k, boolean accumulate) {
        float sum = 0f;
        for (int p = 0; p < k; p++) {
            sum += a[aOff + i * k + p] * b[bOff + p * n + j];
        }
        int idx = cOff + i * n + j;
        c[idx] = accumulate ? c[idx] + sum : sum;
    }

    /** {@code C[i,j] (+)= sum_p A[i,p] B[j,p]}. */
    public static void matmulNTCell(int i, int j, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                    int n, int k, boolean accumulate) {
        float sum = 0f;
        for (int p = 0; p < k; p++) {
            sum += a[aOff + i * k + p] * b[bOff + j * k + p];
        }
        int idx = cOff + i * n + j;
        c[idx] = accumulate ? c[idx] + sum : sum;
    }

    /** {@code C[i,j] (+)= sum_p A[p,i] B[p,j]}; A is [k, m]. */
    public static void matmulTNCell(int i, int j, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                    int m, int n, int k, boolean accumulate) {
        float sum = 0f;
        for (int p = 0; p < k; p++) {
            sum += a[aOff + p * m + i] * b[bOff + p * n + j];
        }
        int idx = cOff + i * n + j;
        c[idx] = accumulate ? c[idx] + sum : sum;
    }
}
