package flexmoe.benchmarks;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.InferenceSession;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
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
 * Tokens per second of KV-cache decoding ({@link InferenceSession}: what {@code ./flexmoe generate} runs),
 * one token per sequence per call over a whole context (prefill of one token, then maxSeqLen - 1 decode
 * steps), for {@code batch} sequences at once, on the {@code quick} and {@code paper-mini} presets (dense;
 * the weights are random: speed does not depend on them). Sampling is left out: it is host code over V
 * logits per token.
 *
 * <p>Reported: {@code tokens} (generated tokens per second, all sequences together).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/flexmoe-benchmarks.jar
 * DecodeBenchmark -p threads=2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class DecodeBenchmark {

    @Param({"quick", "paper-mini"})
    public String preset;

    @Param({"1", "10"})
    public int batch;

    @Param({"2"})
    public int threads;

    private Backend backend;
    private InferenceSession session;
    private int[] next;
    private int steps;

    /** Per-iteration rate JMH reports next to the context rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        /** Tokens decoded (reported per second). */
        public long tokens;

        @Setup(Level.Iteration)
        public void clear() {
            tokens = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        ModelConfig config = ModelConfig.preset(preset);
        backend = Backends.create("jvm", threads);
        session = new InferenceSession(Parameters.init(config, 1), backend, batch, config.maxSeqLen());
        steps = config.maxSeqLen();
        next = new int[batch];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    /** One whole context per sequence: each step feeds back the argmax of the last logits (greedy). */
    @Benchmark
    public int context(Rates rates) {
        session.reset();
        int vocab = session.config().vocabSize();
        java.util.Arrays.fill(next, 1);
        for (int s = 0; s < steps; s++) {
            float[] logits = session.forward(next, 1);
            for (int b = 0; b < batch; b++) {
                int best = 0;
                for (int j = 1; j < vocab; j++) {
                    if (logits[b * vocab + j] > logits[b * vocab + best]) {
                        best = j;
                    }
                }
                next[b] = best;
            }
        }
        rates.tokens += (long) steps * batch;
        return next[0];
    }
}
