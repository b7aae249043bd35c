package flexmoe.benchmarks;

import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.BpeTrainer;
import flexmoe.moe.tokenizer.SyntheticText;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Byte-level BPE encoding and decoding speed on one core. An operation is one byte of UTF-8 text, and the time unit
 * a microsecond, so the score is MB/s (10^6 bytes per second) directly.
 *
 * <p>The tokenizer (vocabulary 4096) is trained in the set-up on 3 MB of generated text; the measured text (exactly
 * {@link #TEXT_BYTES} bytes) comes from the same generator afterwards, so it shares the vocabulary of words but not the
 * text. Kinds: {@code english} (Zipf words, sentences), {@code mixed} (prose, code, punctuation runs, non-Latin
 * scripts, emoji), {@code unique} (random letter strings, nearly all distinct: the per-thread piece cache misses,
 * so every piece goes through the merges; a lower bound).
 *
 * <p>{@code java -jar benchmarks/target/flexmoe-benchmarks.jar TokenizerBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TokenizerBenchmark {

    static final int TEXT_BYTES = 1 << 20;

    @Param({"english", "mixed", "unique"})
    public String kind;

    private BpeTokenizer tokenizer;
    private String text;
    private int[] ids;

    @Setup(Level.Trial)
    public void setUp() {
        SyntheticText gen = new SyntheticText(1);
        List<String> training = new ArrayList<>();
        for (int bytes = 0; bytes < 3_000_000; ) {
            String doc = training.size() % 3 == 2 ? gen.mixed(4000) : gen.english(4000);
            training.add(doc);
            bytes += doc.getBytes(StandardCharsets.UTF_8).length;
        }
        tokenizer = new BpeTrainer(BpeTrainer.DEFAULT_VOCAB_SIZE).train(training);
        String raw = switch (kind) {
            case "english" -> gen.english(TEXT_BYTES);
            case "mixed" -> gen.mixed(TEXT_BYTES);
            case "unique" -> randomWords(TEXT_BYTES);
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        };
        text = exactly(raw, TEXT_BYTES);
        ids = tokenizer.encode(text);
        if (!tokenizer.decode(ids).equals(text)) {
            throw new IllegalStateException("round trip failed on the benchmark text");
        }
    }

    private static String randomWords(int bytes) {
        SplittableRandom random = new SplittableRandom(2);
        StringBuilder sb = new StringBuilder(bytes + 16);
        while (sb.length() < bytes) {
            sb.append(' ');
            for (int i = 0, n = 3 + random.nextInt(8); i < n; i++) {
                sb.append((char) ('a' + random.nextInt(26)));
            }
        }
        return sb.toString();
    }

    /** The longest prefix of {@code s} within {@code bytes} UTF-8 bytes, padded with spaces to exactly that many. */
    private static String exactly(String s, int bytes) {
        StringBuilder sb = new StringBuilder();
        int used = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int len = Character.toString(cp).getBytes(StandardCharsets.UTF_8).length;
            if (used + len > bytes) {
                break;
            }
            sb.appendCodePoint(cp);
            used += len;
            i += Character.charCount(cp);
        }
        sb.append(" ".repeat(bytes - used));
        return sb.toString();
    }

    @Benchmark
    @OperationsPerInvocation(TEXT_BYTES)
    public int[] encode() {
        return tokenizer.encode(text);
    }

    @Benchmark
    @OperationsPerInvocation(TEXT_BYTES)
    public String decode() {
        return tokenizer.decode(ids);
    }
}
