package flexmoe.benchmarks;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.Arrays;
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
 * One SwiGLU expert, forward and backward, as a training step runs it: d 256, hidden 1024, 4096 tokens.
 * W1 and W3 are stacked into one [2F, D] matrix so the gate and up projections are one GEMM (and their
 * gradients one GEMM each way). 9 GEMMs of 2·T·D·F FLOPs each, plus the SwiGLU activation and its
 * backward. benchmarks/peer_numpy.py runs the same computation through numpy.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ExpertBenchmark {

    @Param({"4096"})
    public int tokens;

    @Param({"256"})
    public int dim;

    @Param({"1024"})
    public int hidden;

    @Param({"1", "2"})
    public int threads;

    private Backend backend;
    private float[] x;
    private float[] w13;
    private float[] w2;
    private float[] gu;
    private float[] h;
    private float[] y;
    private float[] dy;
    private float[] dh;
    private float[] dGu;
    private float[] dx;
    private float[] dW13;
    private float[] dW2;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rng = new SplittableRandom(1);
        int t = tokens, d = dim, f = hidden;
        x = GemmBenchmark.random(rng, t * d);
        w13 = scaled(GemmBenchmark.random(rng, 2 * f * d), (float) (1 / Math.sqrt(d)));
        w2 = scaled(GemmBenchmark.random(rng, d * f), (float) (1 / Math.sqrt(f)));
        dy = GemmBenchmark.random(rng, t * d);
        gu = new float[t * 2 * f];
        h = new float[t * f];
        y = new float[t * d];
        dh = new float[t * f];
        dGu = new float[t * 2 * f];
        dx = new float[t * d];
        dW13 = new float[2 * f * d];
        dW2 = new float[d * f];
        backend = Backends.create("jvm", threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    /** Forward and backward of one expert; weight gradients accumulate, as in training. */
    @Benchmark
    public float[] forwardBackward() {
        int t = tokens, d = dim, f = hidden;
        var gemm = backend.gemm();
        var moe = backend.moe();
        gemm.matmulNT(x, 0, w13, 0, gu, 0, t, 2 * f, d, false);          // [x W1^T | x W3^T]
        moe.swigluFusedForward(gu, 0, h, 0, t, f);                         // silu(a) * u
        gemm.matmulNT(h, 0, w2, 0, y, 0, t, d, f, false);                  // y = h W2^T

        gemm.matmul(dy, 0, w2, 0, dh, 0, t, f, d, false);                  // dh = dy W2
        gemm.matmulTN(dy, 0, h, 0, dW2, 0, d, f, t, true);                 // dW2 += dy^T h
        moe.swigluFusedBackward(gu, 0, dh, 0, dGu, 0, t, f);               // [da | du]
        gemm.matmul(dGu, 0, w13, 0, dx, 0, t, d, 2 * f, false);            // dx = [da|du] [W1;W3]
        gemm.matmulTN(dGu, 0, x, 0, dW13, 0, 2 * f, d, t, true);           // dW13 += [da|du]^T x
        return dx;
    }

    private static float[] scaled(float[] a, float s) {
        float[] out = Arrays.copyOf(a, a.length);
        for (int i = 0; i < out.length; i++) {
            out[i] *= s;
        }
        return out;
    }
}
