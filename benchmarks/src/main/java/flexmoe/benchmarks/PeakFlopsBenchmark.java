package flexmoe.benchmarks;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's fp32 FMA peak as the JVM reaches it: 12 independent vector accumulators (enough to hide
 * the FMA latency) updated in registers, no memory traffic. MFU in benchmarks/README.md is measured
 * against this number from the same session, not against a datasheet. GFLOP/s = score (ops/us) x FMAS_PER_OP
 * x lanes x 2 / 1000.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PeakFlopsBenchmark {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int STEPS = 1000;
    /** FMAs (each on a full vector) per benchmark operation. */
    public static final int FMAS_PER_OP = 12 * STEPS;

    private final float[] seed = new float[SPECIES.length()];

    @Benchmark
    @Threads(1)
    public float oneThread() {
        return fmaChains();
    }

    @Benchmark
    @Threads(2)
    public float twoThreads() {
        return fmaChains();
    }

    private float fmaChains() {
        FloatVector x = FloatVector.fromArray(SPECIES, seed, 0).add(0.5f);
        FloatVector y = x.mul(0.999f);
        FloatVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x;
        FloatVector a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(x, y);
            a1 = a1.fma(x, y);
            a2 = a2.fma(x, y);
            a3 = a3.fma(x, y);
            a4 = a4.fma(x, y);
            a5 = a5.fma(x, y);
            a6 = a6.fma(x, y);
            a7 = a7.fma(x, y);
            a8 = a8.fma(x, y);
            a9 = a9.fma(x, y);
            a10 = a10.fma(x, y);
            a11 = a11.fma(x, y);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
