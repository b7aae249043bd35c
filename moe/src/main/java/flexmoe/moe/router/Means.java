package flexmoe.moe.router;

import flexmoe.kernels.Backend;
import java.util.Arrays;

/** Averages through the Backend (the rule: every FLOP through its ops). */
final class Means {

    private Means() {
    }

    /** The mean of the rows of {@code x [rows, cols]}: {@code (1/rows) · 1ᵀ x}, one GEMM and one scale. */
    static float[] rowMean(Backend backend, float[] x, int rows, int cols) {
        if (rows < 1) {
            throw new IllegalArgumentException("mean over rows: no rows");
        }
        float[] ones = new float[rows];
        Arrays.fill(ones, 1f);
        float[] mean = new float[cols];
        backend.gemm().matmul(ones, 0, x, 0, mean, 0, 1, cols, rows, false);
        backend.transformer().scale(mean, 0, 1f / rows, mean, 0, cols);
        return mean;
    }
}
