package flexmoe.kernels.jvm;

import flexmoe.kernels.GemmOps;

/** GEMM on the JVM: the packed Vector API GEMM ({@link VectorGemm}), tiles of C split across the workers. */
final class JvmGemmOps implements GemmOps {

    private final VectorGemm gemm;

    JvmGemmOps(ParallelRunner runner) {
        this.gemm = new VectorGemm(runner);
    }

    @Override
    public void matmul(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                       boolean accumulate) {
        GemmOps.check("NN", a, aOff, b, bOff, c, cOff, m, n, k);
        gemm.gemm(false, false, a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
    }

    @Override
    public void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate) {
        GemmOps.check("NT", a, aOff, b, bOff, c, cOff, m, n, k);
        gemm.gemm(false, true, a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
    }

    @Override
    public void matmulTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate) {
        GemmOps.check("TN", a, aOff, b, bOff, c, cOff, m, n, k);
        gemm.gemm(true, false, a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
    }
}
