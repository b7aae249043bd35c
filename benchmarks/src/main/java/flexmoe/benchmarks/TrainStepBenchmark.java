package flexmoe.benchmarks;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.ModelFlops;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.TokenBatch;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.Trainer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Tokens per second of one full training step ({@link Trainer#step}: zero grads, forward, backward, clip,
 * AdamW), every parameter trainable, on the {@code quick} and {@code paper-mini} presets, dense and as a
 * 2-expert top-2 MoE (FlexOlmo's expert-training shape), on 1 and 2 JVM threads. Each step is 1024 tokens
 * (8 x 128 for quick, 4 x 256 for paper-mini).
 *
 * <p>Reported: {@code tokens} (tokens/s) and {@code gflop} (model GFLOP/s by {@link ModelFlops}:
 * {@code 6 N + 12 L S D} per token), so MFU = gflop / peak with the machine's FMA peak measured in the same
 * session by {@link PeakFlopsBenchmark} (it differs between machines: benchmarks/README.md). The setup prints the
 * FLOPs per token.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/flexmoe-benchmarks.jar
 * TrainStepBenchmark -p preset=quick -p experts=1 -p threads=1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
public class TrainStepBenchmark {

    /** Tokens per training step. */
    static final int STEP_TOKENS = 1024;

    @Param({"quick", "paper-mini"})
    public String preset;

    /** 1 = dense; 2 = two experts, top-2. */
    @Param({"1", "2"})
    public int experts;

    @Param({"1", "2"})
    public int threads;

    private Backend backend;
    private Trainer trainer;
    private TokenBatch batch;
    private double flopsPerStep;

    /** Per-iteration rates JMH reports next to the step rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        /** Tokens trained (reported per second). */
        public long tokens;
        /** Model GFLOPs done (reported per second). */
        public double gflop;

        @Setup(Level.Iteration)
        public void clear() {
            tokens = 0;
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        ModelConfig config = ModelConfig.preset(preset).withExperts(experts, experts);
        int seq = config.maxSeqLen();
        int b = STEP_TOKENS / seq;
        SplittableRandom rng = new SplittableRandom(1);
        int[] tokens = new int[b * seq + 1];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(config.vocabSize());
        }
        batch = new TokenBatch(java.util.Arrays.copyOf(tokens, b * seq),
                java.util.Arrays.copyOfRange(tokens, 1, b * seq + 1), b, seq);
        backend = Backends.create("jvm", threads);
        Parameters params = Parameters.init(config, 1);
        params.trainAll();
        trainer = new Trainer(new FlexOlmoModel(params, backend), AdamWConfig.olmo2(0.1),
                LrSchedule.constant(1e-4));
        double perToken = ModelFlops.trainingFlopsPerToken(config, seq);
        flopsPerStep = perToken * batch.tokens();
        System.out.printf("%n%s experts=%d top-%d threads=%d: %d params, %.2f MFLOP per token (6N + 12LSD), "
                        + "%d tokens per step%n", preset, experts, experts, threads, params.parameterCount(),
                perToken / 1e6, batch.tokens());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public double step(Rates rates) {
        double loss = trainer.step(batch).loss().total();
        rates.tokens += batch.tokens();
        rates.gflop += flopsPerStep / 1e9;
        return loss;
    }
}
