package flexmoe.kernels.jvm;

import flexmoe.kernels.GemmKernels;
import flexmoe.kernels.GemmOps;

/** GEMM on the JVM: the plain bodies, rows split across the worker threads. */
final class JvmGemmOps implements GemmOps {

    private final ParallelRunner runner;

    JvmGemmOps(ParallelRunner runner) {
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
