package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.tokenizer.SyntheticText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The quick start end to end on a generated corpus (tiny preset, a handful of steps): the same code path as the real run. */
class QuickstartCommandTest {

    private static final List<String> DOMAINS = List.of("public", "math", "code", "news");
    private static final List<String> MODELS = List.of("public", "public+math", "public+code", "public+news",
            "FlexOlmo", "FlexOlmo-news", "FlexOlmo+RT");

    @TempDir
    Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    private String[] args(Path results) {
        return new String[] {"quickstart", "--corpus", dir.resolve("corpus").toString(), "--work",
                dir.resolve("work").toString(), "--results", results.toString(), "--preset", "tiny", "--vocab", "300",
                "--pretrain-steps", "4", "--expert-steps", "3", "--batch", "2", "--eval-documents", "4",
                "--cloze-questions", "3", "--context-chars", "16", "--continuation-chars", "6", "--router-documents", "4", "--threads", "1",
                "--tune-steps", "3", "--tune-proxy-documents", "5"};
    }

    @Test
    void runsTheWholePipelineAndASecondRunReusesTheArtifactsWithTheSameNumbers() throws IOException {
        for (String domain : DOMAINS) {
            Path d = Files.createDirectories(dir.resolve("corpus").resolve(domain));
            String[] docs = new SyntheticText(domain.hashCode()).documents(80);
            for (int i = 0; i < docs.length; i++) {
                Files.writeString(d.resolve("doc" + i + ".txt"), docs[i]);
            }
        }
        Path first = dir.resolve("results1");
        assertThat(FlexMoeCli.run(args(first))).as(console.err()).isZero();
        assertThat(console.out()).contains("bit-identical logits").doesNotContain("reused");
        for (String f : List.of("table.md", "results.csv", "bits-per-byte.png", "run.json")) {
            assertThat(first.resolve(f)).isNotEmptyFile();
        }
        List<String> csv = Files.readAllLines(first.resolve("results.csv"));
        assertThat(csv).hasSize(1 + MODELS.size() * DOMAINS.size());
        for (String m : MODELS) {
            for (String d : DOMAINS) {
                assertThat(csv).anySatisfy(line -> assertThat(line).startsWith(m + "," + d + ","));
            }
        }
        String table = Files.readString(first.resolve("table.md"));
        for (String m : MODELS) {
            assertThat(table).contains("| " + m + " |");
        }
        assertThat(table).contains("FlexOlmo with 'news' excluded gives bit-identical logits").contains("## Routing");
        JsonNode run = new ObjectMapper().readTree(first.resolve("run.json").toFile());
        assertThat(run.get("steps").get("pretrain").asLong()).isEqualTo(4);
        assertThat(run.get("stageSeconds").has("eval")).isTrue();
        assertThat(run.get("steps").get("tune-router").asLong()).isEqualTo(3);
        assertThat(run.get("settings").get("routerTuning").get("proxyDocuments").get("math").asInt()).isEqualTo(5);
        assertThat(table).contains("## Router tuning", "The same for FlexOlmo+RT", "3 steps",
                "Opt-out is exact only for the untuned FlexOlmo");
        assertThat(ComposedModel.load(dir.resolve("work").resolve("flexolmo-rt.safetensors")).routerTuned()).isTrue();
        byte[] png = Files.readAllBytes(first.resolve("bits-per-byte.png"));
        assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');

        // Same inputs: every artifact is reused, and the numbers are the same.
        Path second = dir.resolve("results2");
        assertThat(FlexMoeCli.run(args(second))).isZero();
        assertThat(console.out()).contains("[tokenizer] reused").contains("[pack] reused").contains("[pretrain] reused")
                .contains("[expert-news] reused").contains("[tune-router] reused");
        assertThat(Files.readAllLines(second.resolve("results.csv"))).isEqualTo(csv);
    }

    @Test
    void badOptionsAreOneLineErrors() {
        assertThat(FlexMoeCli.run("quickstart", "--opt-out", "forum")).isEqualTo(1);
        assertThat(console.err().strip()).startsWith("flexmoe: --opt-out: 'forum' is not one of --experts")
                .doesNotContain("\n");
    }
}
