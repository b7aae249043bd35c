package flexmoe.benchmarks;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * GEMM on the model's shapes, forward ({@code NT}: Y = X Wᵀ) and both backward layouts
 * ({@code NN}: dX = dY W; {@code TN}: dW = dYᵀ X). Shapes are "m x k x n" of the forward product.
 * GFLOP/s = 2 m n k / time; benchmarks/peer_numpy.py runs the same products through OpenBLAS.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {

    @Param({"4096x256x1024", "4096x1024x256", "4096x512x2048"})
    public String shape;

    @Param({"NT", "NN", "TN"})
    public String layout;

    @Param({"1", "2"})
    public int threads;

    private Backend backend;
    private float[] a;
    private float[] b;
    private float[] c;
    private int m;
    private int n;
    private int k;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int tokens = Integer.parseInt(dims[0]);
        int in = Integer.parseInt(dims[1]);
        int out = Integer.parseInt(dims[2]);
        // Map the forward shape onto the product each layout computes in training.
        switch (layout) {
            case "NT" -> { m = tokens; k = in; n = out; }   // Y[t,out] = X[t,in] W[out,in]^T
            case "NN" -> { m = tokens; k = out; n = in; }   // dX[t,in] = dY[t,out] W[out,in]
            case "TN" -> { m = out; k = tokens; n = in; }   // dW[out,in] = dY[t,out]^T X[t,in]
            default -> throw new IllegalArgumentException(layout);
        }
        SplittableRandom rng = new SplittableRandom(1);
        a = random(rng, m * k);
        b = random(rng, k * n);
        c = new float[m * n];
        backend = Backends.create("jvm", threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] gemm() {
        switch (layout) {
            case "NT" -> backend.gemm().matmulNT(a, 0, b, 0, c, 0, m, n, k, false);
            case "NN" -> backend.gemm().matmul(a, 0, b, 0, c, 0, m, n, k, false);
            default -> backend.gemm().matmulTN(a, 0, b, 0, c, 0, m, n, k, false);
        }
        return c;
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return x;
    }
}
