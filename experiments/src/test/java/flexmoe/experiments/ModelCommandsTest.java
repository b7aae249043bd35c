package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.eval.Logits;
import flexmoe.moe.eval.Npy;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.BpeTrainer;
import flexmoe.moe.tokenizer.SyntheticText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** generate, eval and logits on random smoke-test models: outputs, reproducibility, errors. */
class ModelCommandsTest {

    @TempDir
    static Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    private static Path corpus;
    private static Path tokenizerFile;
    private static BpeTokenizer tokenizer;

    @BeforeAll
    static void setUp() throws IOException {
        corpus = dir.resolve("corpus");
        SyntheticText gen = new SyntheticText(3);
        for (String domain : new String[] {"public", "news"}) {
            Files.createDirectories(corpus.resolve(domain));
            String[] docs = gen.documents(16);
            for (int i = 0; i < docs.length; i++) {
                Files.writeString(corpus.resolve(domain).resolve("doc" + i + ".txt"), docs[i]);
            }
        }
        tokenizer = new BpeTrainer(300).train(Arrays.asList(new SyntheticText(4).documents(20)));
        tokenizerFile = dir.resolve("tokenizer.json");
        tokenizer.save(tokenizerFile);
    }

    private int run(String... args) {
        return FlexMoeCli.run(args);
    }

    private static String[] with(String[] base, String... extra) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(extra));
        return all.toArray(String[]::new);
    }

    private static final String[] GENERATE = {"generate", "--random-preset", "tiny", "--random-seed", "3", "--tokenizer",
        null, "--prompt", "The river", "--prompt", "", "--samples", "2", "--max-tokens", "6", "--top-k", "40",
        "--top-p", "0.9", "--threads", "1"};

    private static String[] generate(String... extra) {
        String[] base = GENERATE.clone();
        base[6] = tokenizerFile.toString();
        return with(base, extra);
    }

    @Test
    void generatePrintsEachSampleAndTheSameSeedGivesTheSameText() {
        assertThat(run(generate("--seed", "7"))).as(console.err()).isZero();
        String first = console.takeOut();
        assertThat(console.takeErr()).contains("flexmoe: note: a random, untrained tiny model (seed 3, vocabulary "
                + tokenizer.vocabSize() + "): output is noise, for smoke tests only");
        assertThat(first).contains("### prompt 1, sample 1: ", "### prompt 1, sample 2: ", "### prompt 2, sample 1: ",
                "### prompt 2, sample 2: ", "\nThe river");
        assertThat(run(generate("--seed", "7"))).isZero();
        assertThat(console.takeOut()).isEqualTo(first);
        assertThat(run(generate("--seed", "8"))).isZero();
        assertThat(console.takeOut()).isNotEqualTo(first);
    }

    @Test
    void greedySamplesAreAllTheSame() {
        assertThat(run(generate("--greedy", "--random-experts", "3"))).as(console.err()).isZero();
        String[] blocks = console.takeOut().split("### ");
        // blocks[0] is empty; then prompt 1 samples 1-2, prompt 2 samples 1-2.
        assertThat(blocks).hasSize(5);
        assertThat(body(blocks[2])).isEqualTo(body(blocks[1]));
        assertThat(body(blocks[4])).isEqualTo(body(blocks[3]));
        assertThat(console.takeErr()).contains("3 experts, top-2");
    }

    /** A sample's block without its header line's sample number. */
    private static String body(String block) {
        return block.replaceFirst("sample \\d", "sample");
    }

    @Test
    void evalPrintsBitsPerByteClozeAndRoutingAndWritesJson() throws IOException {
        Path json = dir.resolve("eval.json");
        // The quick preset: the tiny one's 16 positions are too few for cloze items with this small tokenizer.
        int code = run("eval", "--random-preset", "quick", "--random-experts", "3", "--tokenizer",
                tokenizerFile.toString(), "--corpus", corpus.toString(), "--split-fractions", "0.5,0.1,0.4",
                "--cloze-questions", "12", "--context-chars", "100", "--continuation-chars", "30", "--batch", "4",
                "--threads", "1", "--json", json.toString());
        assertThat(code).as(console.err()).isZero();
        String out = console.takeOut();
        assertThat(out).contains("Evaluation on the test split", "bits/byte", "cloze accuracy", "95% interval",
                "Routing: share of tokens whose top-2 includes each expert (uniform: 0.667)", "public", "expert 2",
                "Wrote " + json);
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("split").asText()).isEqualTo("test");
        assertThat(root.get("domains")).hasSize(2);
        for (JsonNode d : root.get("domains")) {
            String name = d.get("domain").asText();
            assertThat(name).isIn("news", "public");
            double bpb = d.get("bitsPerByte").asDouble();
            assertThat(bpb).isCloseTo(d.get("nats").asDouble() / (Math.log(2) * d.get("bytes").asLong()),
                    org.assertj.core.data.Offset.offset(1e-12));
            // An untrained model predicts close to uniformly: about log2 V bits per token.
            double perToken = d.get("nats").asDouble() / d.get("tokens").asLong() / Math.log(2);
            assertThat(perToken).isBetween(0.8 * Math.log(tokenizer.vocabSize()) / Math.log(2),
                    1.2 * Math.log(tokenizer.vocabSize()) / Math.log(2));
            assertThat(d.get("cloze").get("questions").asInt()).isEqualTo(12);
            assertThat(d.get("cloze").get("chance").asDouble()).isEqualTo(0.25);
            assertThat(d.get("routingShare")).hasSize(4);
            assertThat(out).containsPattern("(?m)^" + name + " +\\d+ +[\\d,]+ +[\\d,]+ +"
                    + String.format(java.util.Locale.ROOT, "%.4f", bpb));
        }
    }

    @Test
    void logitsWritesTheModelsLogitsAsNpy() {
        Path out = dir.resolve("logits.npy");
        assertThat(run("logits", "--random-preset", "tiny", "--random-seed", "5", "--ids", "1,2,3,60", "--out",
                out.toString(), "--threads", "1")).as(console.err()).isZero();
        assertThat(console.takeOut()).isEqualTo("Wrote " + out + ": float32 logits [4, 64] for 4 tokens\n");
        Npy.Array a = Npy.read(out);
        assertThat(a.shape()).containsExactly(4, 64);
        try (Backend backend = Backends.create("jvm", 1)) {
            float[] expected = Logits.compute(Parameters.init(ModelConfig.preset("tiny"), 5), backend,
                    new int[] {1, 2, 3, 60});
            assertThat(a.data()).isEqualTo(expected);
        }
        assertThat(run("logits", "--random-preset", "tiny", "--text", "Hello there", "--tokenizer",
                tokenizerFile.toString(), "--out", out.toString())).as(console.err()).isZero();
        assertThat(Npy.read(out).shape()).containsExactly(tokenizer.encode("Hello there").length,
                tokenizer.vocabSize());
    }

    @Test
    void badInputGivesOneLineErrorsAndNonZeroExits() {
        Path out = dir.resolve("bad.npy");
        assertThat(run("logits", "--random-preset", "tiny", "--ids", "1,99", "--out", out.toString())).isEqualTo(1);
        assertThat(console.takeErr()).endsWith("flexmoe: --ids: id 99 (item 2) is outside the model's vocabulary"
                + " [0, 64)\n");
        assertThat(out).doesNotExist();
        assertThat(run("logits", "--random-preset", "tiny", "--text", "x", "--out", out.toString())).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: --text needs --tokenizer FILE to encode it\n");
        assertThat(run(generate("--temperature", "-1"))).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: temperature must be 0 (greedy) or in [1.0E-4, 10000.0], got"
                + " -1.0\n");
        assertThat(run("generate", "--random-preset", "huge", "--tokenizer", tokenizerFile.toString())).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: model preset 'huge' is unknown (known: tiny, quick,"
                + " paper-mini)\n");
        Path missing = dir.resolve("missing.safetensors");
        assertThat(run("generate", "--model", missing.toString(), "--tokenizer", tokenizerFile.toString()))
                .isEqualTo(1);
        // One line naming the file (whatever reads model files: today the not-yet message, later the artifact loader).
        assertThat(console.takeErr()).startsWith("flexmoe: ").contains(missing.toString()).hasLineCount(1);
        assertThat(run("eval", "--random-preset", "tiny", "--tokenizer", tokenizerFile.toString(), "--corpus",
                corpus.toString(), "--domains", "law")).isEqualTo(1);
        assertThat(console.takeErr()).startsWith("flexmoe: ").contains("law");
        assertThat(run("generate", "--tokenizer", tokenizerFile.toString())).as("no model").isEqualTo(2);
        assertThat(console.takeErr()).contains("Missing required argument");
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : new String[] {"generate", "eval", "logits"}) {
            assertThat(run(cmd, "--help")).isZero();
            assertThat(console.takeOut()).contains("Usage: flexmoe " + cmd, "--random-preset", "--model");
            assertThat(console.takeErr()).as("picocli could format every description").doesNotContain("WARN");
        }
    }
}
