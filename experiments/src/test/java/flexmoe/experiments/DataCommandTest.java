package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.CorpusReport;
import flexmoe.moe.data.DomainReport;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.Split;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DataCommandTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    private String stdout() {
        return console.out();
    }

    private String stderr() {
        return console.err();
    }

    /** Bytes as token ids, EOS = 256 (the real tokenizer comes from the tokenizer package). */
    private static final class BytesTokenizer implements Tokenizer {
        @Override
        public int[] encode(String text) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                ids[i] = b[i] & 0xFF;
            }
            return ids;
        }

        @Override
        public String decode(int[] ids, int from, int to) {
            byte[] b = new byte[to - from];
            for (int i = from; i < to; i++) {
                b[i - from] = (byte) ids[i];
            }
            return new String(b, StandardCharsets.UTF_8);
        }

        @Override
        public String fingerprint() {
            return TokenizerFingerprint.ofBytes("bytes".getBytes(StandardCharsets.UTF_8)).sha256();
        }

        @Override
        public int vocabSize() {
            return 257;
        }

        @Override
        public int eosId() {
            return 256;
        }
    }

    private Path corpus() throws IOException {
        Path c = dir.resolve("corpus");
        for (String domain : new String[] {"news", "math"}) {
            Files.createDirectories(c.resolve(domain));
            StringBuilder jsonl = new StringBuilder();
            for (int i = 0; i < 80; i++) {
                jsonl.append("{\"text\": \"").append(domain).append(" document ").append(i).append(" ")
                        .append("lorem ipsum ".repeat(i % 7 + 1)).append("\"}\n");
            }
            Files.writeString(c.resolve(domain).resolve("docs.jsonl"), jsonl);
        }
        Files.writeString(c.resolve("news").resolve("broken.jsonl"), "{\"title\": \"no text\"}\nnot json\n");
        return c;
    }

    @Test
    void dataAloneListsItsSubcommands() {
        assertThat(FlexMoeCli.run("data")).isZero();
        assertThat(stdout()).contains("inspect").contains("pack");
    }

    @Test
    void inspectPrintsDocumentsAndBytesPerDomainAndSplitAndWhatWasSkipped() throws IOException {
        Path c = corpus();

        assertThat(FlexMoeCli.run("data", "inspect", "--corpus", c.toString())).isZero();

        CorpusReport expected = Corpus.open(c).inspect();
        String text = stdout();
        assertThat(text).startsWith(String.format("corpus %s: 2 domain(s), %,d documents, %,d bytes (split 0.9,0.05,0.05)",
                c, expected.documents(), expected.bytes()));
        for (DomainReport r : expected.domains()) {
            for (Split s : Split.values()) {
                assertThat(text).contains(String.format("%-16s %6d  %-5s %,10d %,14d", r.domain(), r.files(), s.id(),
                        r.split(s).documents(), r.split(s).bytes()));
            }
        }
        assertThat(text).contains("domain 'news': skipped 2 document(s) (1 JSONL line is not a JSON object,"
                + " 1 JSONL object has no string field \"text\"):");
        assertThat(text).contains("  " + c.resolve("news/broken.jsonl") + ":1: no field \"text\" (fields: title); skipped");
    }

    @Test
    void inspectHonoursSplitFractionsAndStrict() throws IOException {
        Path c = corpus();
        assertThat(FlexMoeCli.run("data", "inspect", "--corpus", c.toString(), "--split-fractions", "0.5,0.25,0.25"))
                .isZero();
        assertThat(stdout()).contains("(split 0.5,0.25,0.25)");

        assertThat(FlexMoeCli.run("data", "inspect", "--corpus", c.toString(), "--strict")).isEqualTo(1);
        assertThat(stderr()).isEqualTo("flexmoe: " + c.resolve("news/broken.jsonl")
                + ":1: no field \"text\" (fields: title) (strict mode: such documents are errors)" + System.lineSeparator());
    }

    @Test
    void inspectOfAMissingCorpusIsOneLine() {
        Path missing = dir.resolve("nope");
        assertThat(FlexMoeCli.run("data", "inspect", "--corpus", missing.toString())).isEqualTo(1);
        assertThat(stderr()).isEqualTo("flexmoe: corpus directory " + missing + " does not exist" + System.lineSeparator());
    }

    @Test
    void inspectOfADomainWithNothingUsableFails() throws IOException {
        Path c = dir.resolve("c");
        Files.createDirectories(c.resolve("empty"));
        Files.writeString(c.resolve("empty").resolve("a.txt"), "   ");
        assertThat(FlexMoeCli.run("data", "inspect", "--corpus", c.toString())).isEqualTo(1);
        assertThat(stderr()).startsWith("flexmoe: domain 'empty' (" + c.resolve("empty") + ") has no usable documents:"
                + " all 1 skipped (1 empty document)");
        assertThat(stderr().strip().lines()).hasSize(1);
    }

    @Test
    void badSplitFractionsAreOneLine() throws IOException {
        Path c = corpus();
        assertThat(FlexMoeCli.run("data", "inspect", "--corpus", c.toString(), "--split-fractions", "0.9,0.2,0.1"))
                .isEqualTo(1);
        assertThat(stderr()).isEqualTo("flexmoe: split fractions must add up to 1, got train 0.9, valid 0.2, test 0.1"
                + System.lineSeparator());
    }

    @Test
    void packWritesValidatedFilesForEachDomainAndSplit() throws IOException {
        Path c = corpus();
        Path tokenizerFile = Files.writeString(dir.resolve("tokenizer.json"), "{\"stand-in\": true}");
        Path outDir = dir.resolve("packed");
        Tokenizer tokenizer = new BytesTokenizer();

        int code = new CommandLine(new DataPackCommand(p -> tokenizer)).execute("--corpus", c.toString(), "--tokenizer",
                tokenizerFile.toString(), "--seq-len", "32", "--out", outDir.toString(), "--domains", "news",
                "--split-fractions", "0.6,0.2,0.2");

        assertThat(code).isZero();
        TokenizerFingerprint fp = new TokenizerFingerprint(tokenizer.fingerprint());
        try (Stream<Path> files = Files.list(outDir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("news.train.bin", "news.valid.bin", "news.test.bin", "news.pack.json");
        }
        for (Split s : Split.values()) {
            PackedSequences p = PackedSequences.load(outDir.resolve("news." + s.id() + ".bin"), 257, fp);
            assertThat(p.seqLen()).isEqualTo(32);
            assertThat(stdout()).contains(String.format("%-16s %-5s %,10d %,14d %,10d %,8d  %s", "news", s.id(),
                    p.documents(), (long) p.sequenceCount() * 33, p.sequenceCount(), p.droppedTokens(),
                    "news." + s.id() + ".bin"));
        }
        assertThat(stdout()).startsWith("packed 1 domain(s) into " + outDir + ": seq-len 32 (33 tokens per sequence),"
                + " tokenizer " + fp.shortForm() + " (vocab 257)");
        assertThat(stderr()).contains("flexmoe: warning: domain 'news': skipped 2 document(s)");
    }

    @Test
    void packRejectsAnUnknownDomainSplitOrTokenizerFileBeforeWorking() throws IOException {
        Path c = corpus();
        Path outDir = dir.resolve("packed");
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");

        assertThat(FlexMoeCli.run("data", "pack", "--corpus", c.toString(), "--tokenizer", tok.toString(), "--seq-len",
                "8", "--out", outDir.toString(), "--domains", "news,code")).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: corpus " + c + " has no domain 'code' (it has: math, news)"
                + System.lineSeparator());

        assertThat(FlexMoeCli.run("data", "pack", "--corpus", c.toString(), "--tokenizer", tok.toString(), "--seq-len",
                "8", "--out", outDir.toString(), "--splits", "train,dev")).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: unknown split 'dev': expected one of train, valid, test"
                + System.lineSeparator());

        Path missing = dir.resolve("missing.json");
        assertThat(FlexMoeCli.run("data", "pack", "--corpus", c.toString(), "--tokenizer", missing.toString(),
                "--seq-len", "8", "--out", outDir.toString())).isEqualTo(1);
        assertThat(stderr()).isEqualTo("flexmoe: tokenizer file " + missing + " does not exist" + System.lineSeparator());
        assertThat(outDir).doesNotExist();
    }

    @Test
    void packWithoutRequiredOptionsIsAUsageError() {
        assertThat(FlexMoeCli.run("data", "pack", "--corpus", dir.toString())).isNotZero();
        assertThat(stderr()).contains("Missing required options");
    }
}
