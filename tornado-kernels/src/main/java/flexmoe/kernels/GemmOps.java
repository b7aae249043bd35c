package flexmoe.kernels;

/**
 * Row-major fp32 matrix products in the three layouts training needs. Linear layers store weights as
 * {@code W[out, in]} (Hugging Face layout), so forward is {@link #matmulNT} ({@code Y = X Wᵀ}), the input
 * gradient is {@link #matmul} ({@code dX = dY W}) and the weight gradient is {@link #matmulTN}
 * ({@code dW += dYᵀ X}).
 *
 * <p>Each matrix is a contiguous row-major block starting at its offset. With {@code accumulate} the
 * product is added to C, otherwise C is overwritten (its old contents, NaN included, are never read).
 */
public interface GemmOps {

    /** {@code C[m,n] (+)= A[m,k] · B[k,n]}. */
    void matmul(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k, boolean accumulate);

    /** {@code C[m,n] (+)= A[m,k] · B[n,k]ᵀ}. */
    void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k, boolean accumulate);

    /** {@code C[m,n] (+)= A[k,m]ᵀ · B[k,n]}. */
    void matmulTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k, boolean accumulate);

    /** Argument checks shared by every implementation; {@code layout} is "NN", "NT" or "TN". */
    static void check(String layout, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                      int m, int n, int k) {
        String op = "matmul" + (layout.equals("NN") ? "" : layout);
        KernelArgs.positive(op, "m", m);
        KernelArgs.positive(op, "n", n);
        KernelArgs.positive(op, "k", k);
        KernelArgs.length(op, "a", a, aOff, KernelArgs.size(op, m, k));
        KernelArgs.length(op, "b", b, bOff, KernelArgs.size(op, k, n));
        KernelArgs.length(op, "c", c, cOff, KernelArgs.size(op, m, n));
    }
}
