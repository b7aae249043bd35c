package flexmoe.kernels.jvm;

import flexmoe.kernels.GemmKernels;
import flexmoe.kernels.GemmOps;

/**
 * GEMM through the plain bodies, one output cell at a time, rows split across the workers: the reference
 * backend's GEMM, which the Vector API GEMM is checked against.
 */
final class PlainGemmOps implements GemmOps {

    private final ParallelRunner runner;

    PlainGemmOps(ParallelRunner runner) {
        this.runner = runner;
    }

    @Override
    public void matmul(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                       boolean accumulate) {
        GemmOps.check("NN", a, aOff, b, bOff, c, cOff, m, n, k);
        runner.forRange(m, ParallelRunner.grainFor((long) n * k, 1 << 20), (start, end) -> {
            for (int i = start; i < end; i++) {
                for (int j = 0; j < n; j++) {
                    GemmKernels.matmulCell(i, j, a, aOff, b, bOff, c, cOff, n, k, accumulate);
                }
            }
        });
    }

    @Override
    public void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate) {
        GemmOps.check("NT", a, aOff, b, bOff, c, cOff, m, n, k);
        runner.forRange(m, ParallelRunner.grainFor((long) n * k, 1 << 20), (start, end) -> {
            for (int i = start; i < end; i++) {
                for (int j = 0; j < n; j++) {
                    GemmKernels.matmulNTCell(i, j, a, aOff, b, bOff, c, cOff, n, k, accumulate);
                }
            }
        });
    }

    @Override
    public void matmulTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate) {
        GemmOps.check("TN", a, aOff, b, bOff, c, cOff, m, n, k);
        runner.forRange(m, ParallelRunner.grainFor((long) n * k, 1 << 20), (start, end) -> {
            for (int i = start; i < end; i++) {
                for (int j = 0; j < n; j++) {
                    GemmKernels.matmulTNCell(i, j, a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
                }
            }
        });
    }
}
