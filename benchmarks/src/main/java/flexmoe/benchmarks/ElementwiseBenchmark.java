package flexmoe.benchmarks;

import flexmoe.kernels.AdamWKernels;
import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.kernels.TrainingOps;
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
 * The elementwise passes of a paper-mini training step, one call each, on the {@code jvm} backend (Vector API,
 * flexmoe.kernels.jvm.JvmElementwise) and the {@code reference} backend (the plain bodies), so the ratio of
 * the two is the vectorisation's speed-up on this machine. Shapes: one expert's SwiGLU of a 1024-token step
 * with top-2 of 2 experts ([1024, 2 x 1024] fused), the LM-head cross-entropy ([1024, 4096]) and an AdamW step
 * over 8M parameters (about paper-mini with 2 experts).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/flexmoe-benchmarks.jar
 * ElementwiseBenchmark -p threads=1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class ElementwiseBenchmark {

    private static final int ROWS = 1024;
    private static final int FFN = 1024;
    private static final int VOCAB = 4096;
    private static final int PARAMS = 8 << 20;

    @Param({"swigluForward", "swigluBackward", "crossEntropyForward", "crossEntropyBackward", "adamw"})
    public String op;

    @Param({"jvm", "reference"})
    public String backendName;

    @Param({"1", "2"})
    public int threads;

    private Backend backend;
    private float[] x;
    private float[] y;
    private float[] z;
    private float[] w;
    private int[] targets;
    private float[] lse;
    private float[] loss;
    private final float[] scale = {1f / ROWS};
    private final float[] hyper = new float[AdamWKernels.HYPER_SIZE];

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rng = new SplittableRandom(1);
        backend = Backends.create(backendName, threads);
        switch (op) {
            case "swigluForward", "swigluBackward" -> {
                x = GemmBenchmark.random(rng, ROWS * 2 * FFN);   // gu
                y = GemmBenchmark.random(rng, ROWS * FFN);       // h or dh
                z = new float[ROWS * 2 * FFN];                   // dGu
            }
            case "crossEntropyForward", "crossEntropyBackward" -> {
                x = GemmBenchmark.random(rng, ROWS * VOCAB);
                z = new float[ROWS * VOCAB];
                targets = new int[ROWS];
                for (int t = 0; t < ROWS; t++) {
                    targets[t] = rng.nextInt(VOCAB);
                }
                lse = new float[ROWS];
                loss = new float[ROWS];
                backend.training().crossEntropyForward(x, targets, ROWS, VOCAB, 1e-5f, loss, lse);
            }
            default -> {
                x = GemmBenchmark.random(rng, PARAMS);   // param
                y = GemmBenchmark.random(rng, PARAMS);   // grad
                z = new float[PARAMS];                   // m
                w = new float[PARAMS];                   // v
                // A late step with lr ~0: the parameters hardly move however many calls JMH makes.
                TrainingOps.adamwHyper(hyper, 1e-12, 0.9, 0.95, 1e-8, 0.1, 1000);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] run() {
        switch (op) {
            case "swigluForward" -> backend.moe().swigluFusedForward(x, 0, y, 0, ROWS, FFN);
            case "swigluBackward" -> backend.moe().swigluFusedBackward(x, 0, y, 0, z, 0, ROWS, FFN);
            case "crossEntropyForward" -> backend.training().crossEntropyForward(x, targets, ROWS, VOCAB, 1e-5f,
                    loss, lse);
            case "crossEntropyBackward" -> backend.training().crossEntropyBackward(x, targets, lse, ROWS, VOCAB,
                    1e-5f, scale, z);
            default -> backend.training().adamwStep(x, y, z, w, 0, PARAMS, hyper);
        }
        return z;
    }
}
