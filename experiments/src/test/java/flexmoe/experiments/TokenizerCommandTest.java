package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.Split;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.SyntheticText;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class TokenizerCommandTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();
    private Path corpus;

    @BeforeEach
    void setUp() throws IOException {
        corpus = dir.resolve("corpus");
        SyntheticText gen = new SyntheticText(3);
        for (String domain : new String[] {"public", "news"}) {
            Files.createDirectories(corpus.resolve(domain));
            String[] docs = gen.documents(30);
            for (int i = 0; i < docs.length; i++) {
                Files.writeString(corpus.resolve(domain).resolve("doc" + i + ".txt"), docs[i]);
            }
        }
    }

    private String out() {
        return console.takeOut();
    }

    private String err() {
        return console.takeErr();
    }

    private Path train(String... extra) {
        Path file = dir.resolve("tokenizer.json");
        String[] args = {"tokenizer", "train", "--corpus", corpus.toString(), "--vocab", "400", "--out", file.toString()};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        assertThat(FlexMoeCli.run(all)).as(console.err()).isZero();
        return file;
    }

    @Test
    void trainsOnThePublicDomainByDefaultAndSaysSo() {
        Path file = train();
        BpeTokenizer tokenizer = BpeTokenizer.load(file);
        assertThat(tokenizer.vocabSize()).isEqualTo(400);
        assertThat(err()).contains("on domain 'public'", "public data only; --domain overrides").doesNotContain("warning");
        // Only the train split is seen (valid and test stay unseen for evaluation).
        long[] trainDocuments = {0};
        Corpus.open(corpus).forEachDocument("public", Split.TRAIN, doc -> trainDocuments[0]++);
        assertThat(trainDocuments[0]).isBetween(1L, 29L);
        assertThat(out()).contains("Wrote " + file + ": vocabulary 400 (" + tokenizer.mergeCount() + " merges), trained on "
                + trainDocuments[0] + " documents")
                .contains("fingerprint sha256:" + tokenizer.fingerprint());
    }

    @Test
    void anotherDomainWarnsThatTheTokenizerLeaksIt() {
        train("--domain", "news");
        assertThat(err()).contains("flexmoe: warning: training the tokenizer on domain 'news', not 'public': a tokenizer"
                + " trained on private data leaks it");
    }

    @Test
    void encodePrintsTokenStringsOrIdsAndDecodeReversesIt() throws IOException {
        Path file = train();
        out();
        err();
        String text = "Hello  world, naïve 東京 🙂\n";
        assertThat(FlexMoeCli.run("tokenizer", "encode", "--tokenizer", file.toString(), "--text", text)).isZero();
        String tokens = out().strip();
        BpeTokenizer tokenizer = BpeTokenizer.load(file);
        int[] ids = tokenizer.encode(text);
        assertThat(tokens.split(" ")).containsExactly(Arrays.stream(ids).mapToObj(tokenizer::token).toArray(String[]::new));
        assertThat(err()).contains(ids.length + " tokens for " + text.getBytes(StandardCharsets.UTF_8).length + " bytes");

        Path input = dir.resolve("input.txt");
        Files.writeString(input, text);
        assertThat(FlexMoeCli.run("tokenizer", "encode", "--tokenizer", file.toString(), "--file", input.toString(),
                "--ids")).isZero();
        String idLine = out().strip();
        assertThat(idLine).isEqualTo(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));

        String[] decodeArgs = ("tokenizer decode --tokenizer " + file + " " + idLine).split(" ");
        assertThat(FlexMoeCli.run(decodeArgs)).isZero();
        assertThat(out()).isEqualTo(text + "\n");

        System.setIn(new ByteArrayInputStream(idLine.getBytes(StandardCharsets.UTF_8)));
        assertThat(FlexMoeCli.run("tokenizer", "decode", "--tokenizer", file.toString())).isZero();
        assertThat(out()).isEqualTo(text + "\n");
    }

    @Test
    void errorsAreOneLineWithExitCodeOne() throws IOException {
        assertOneLineError(new String[] {"tokenizer", "train", "--corpus", corpus.toString(), "--out",
            dir.resolve("t.json").toString(), "--domain", "math"}, "flexmoe: corpus " + corpus
                + " has no domain 'math' (it has: news, public)");
        assertThat(dir.resolve("t.json")).doesNotExist();

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"version\": \"1.0\"}");
        assertOneLineError(new String[] {"tokenizer", "encode", "--tokenizer", bad.toString(), "--text", "x"},
                "flexmoe: " + bad + ": missing \"model\" (a tokenizer.json has the BPE vocab and merges there)");

        Path file = train();
        err();
        assertOneLineError(new String[] {"tokenizer", "decode", "--tokenizer", file.toString(), "5", "400"},
                "flexmoe: decode: id 400 at index 1 is outside the vocabulary [0, 400)");
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'a', 'b', (byte) 0xE9, 'c'});
        assertOneLineError(new String[] {"tokenizer", "encode", "--tokenizer", file.toString(), "--file",
            latin1.toString()}, "flexmoe: " + latin1 + ": not valid UTF-8 (at byte 2)");
        assertOneLineError(new String[] {"tokenizer", "train", "--corpus", corpus.toString(), "--out",
            dir.resolve("t.json").toString(), "--vocab", "100"},
                "flexmoe: vocabulary size 100 is too small: it needs at least 257 (256 byte tokens and <|endoftext|>)");
    }

    private void assertOneLineError(String[] args, String message) {
        err();
        assertThat(FlexMoeCli.run(args)).isEqualTo(1);
        String lines = err();
        assertThat(lines.lines().filter(l -> l.startsWith("flexmoe: ") && !l.startsWith("flexmoe: warning")))
                .containsExactly(message);
    }
}
