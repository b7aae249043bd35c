package flexmoe.kernels.tornado;

import flexmoe.kernels.GradNormKernels;
import flexmoe.kernels.ResidualKernels;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TaskPackage;

/**
 * TornadoVM launchers for {@link GradNormKernels}: one work item per chunk of {@link GradNormKernels#CHUNK}
 * elements for the partial sums of squares (the host adds them in index order, as the JVM backend does), one
 * per element for the scaling.
 */
public final class GradNormLaunchers {

    private GradNormLaunchers() {
    }

    /** {@code partial[c]} for {@code c < chunks}, {@code chunks = GradNormKernels.chunks(n)}. */
    public static void gradNormSumSquares(float[] x, int off, int n, int chunks, float[] partial) {
        for (@Parallel int c = 0; c < chunks; c++) {
            GradNormKernels.sumSquaresChunk(c, x, off, n, partial);
        }
    }

    /** {@code x[off + i] *= factor[0]} for {@code i < n}. */
    public static void gradNormScale(float[] x, int off, int n, float[] factor) {
        for (@Parallel int i = 0; i < n; i++) {
            ResidualKernels.scale(i, x, off, factor, x, off);
        }
    }

    // Two full chunks and a partial one (517 elements), from a non-zero offset; and a single short chunk.
    private static final int N = 2 * GradNormKernels.CHUNK + 517, OFF = 3, N_SMALL = 5, OFF_SMALL = 1;
    // Gradient-sized values (|x| < 0.01): a full chunk's partial sum is about 2048 * 1e-4 / 3 = 0.07.
    private static final double X_SCALE = 0.01;

    // Sum of squares: 1e-6. Each work item adds its chunk in the same order as Java, but the generated code
    // contracts s + v * v into fma (v * v not rounded; Java never contracts): up to half an ulp of s per
    // term. 2048 terms of a sum ~0.07 (ulp 7.5e-9) give ~1e-6 at worst, ~sqrt(2048) * 4e-9 = 2e-7 typically
    // (measured on PoCL: 7.5e-9). 1e-6 is 1e-5 relative, far below what a clip factor notices, and below
    // what one lost or doubled element changes (v² ~ 3e-5 on average; a lost chunk ~0.07).
    private static final double SUM_TOL = 1e-6;
    // Scaling is one float multiplication on both sides, nothing to contract: bit-identical.
    private static final double SCALE_TOL = 0;

    static List<DeviceCase> cases() {
        List<DeviceCase> cases = new ArrayList<>();
        // x has two elements past the region (and OFF before it): they must come back unchanged.
        cases.add(DeviceCase.of("gradnorm.sumSquaresChunk", SUM_TOL, in -> sumSquares(in.floats(OFF + N + 2, X_SCALE),
                OFF, N, in)));
        cases.add(DeviceCase.of("gradnorm.sumSquaresChunk.small", SUM_TOL, in -> sumSquares(
                in.floats(OFF_SMALL + N_SMALL, X_SCALE), OFF_SMALL, N_SMALL, in)));
        cases.add(DeviceCase.of("gradnorm.scale", SCALE_TOL, in -> TaskPackage.createPackage("scale",
                GradNormLaunchers::gradNormScale, in.floats(OFF + N + 2, X_SCALE), OFF, N, in.holder(0.37f))));
        // Clipping as a graph: the partial sums of x, then x scaled in place; the order of the tasks matters.
        cases.add(new DeviceCase("gradnorm.sumSquaresChunk+scale", SUM_TOL, in -> {
            float[] x = in.floats(OFF + N, X_SCALE);
            return List.of(sumSquares(x, OFF, N, in), TaskPackage.createPackage("scale",
                    GradNormLaunchers::gradNormScale, x, OFF, N, in.holder(0.37f)));
        }));
        return cases;
    }

    private static TaskPackage sumSquares(float[] x, int off, int n, DeviceCase.Inputs in) {
        int chunks = GradNormKernels.chunks(n);
        return TaskPackage.createPackage("sumSquares", GradNormLaunchers::gradNormSumSquares, x, off, n, chunks,
                in.floats(chunks));
    }
}
