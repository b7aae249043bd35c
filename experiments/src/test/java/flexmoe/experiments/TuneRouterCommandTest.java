package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.tokenizer.BpeTrainer;
import flexmoe.moe.tokenizer.SyntheticText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** tune-router on a generated corpus (tiny preset): only the router changes, the file says it was tuned. */
class TuneRouterCommandTest {

    @TempDir
    static Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    private static Path corpus;
    private static Path tokenizer;
    private static Path composed;

    @BeforeAll
    static void setUp() throws IOException {
        corpus = SyntheticCorpus.corpus(dir);
        tokenizer = SyntheticCorpus.tokenizer(dir);
        Path packed = dir.resolve("packed");
        run("data", "pack", "--corpus", corpus.toString(), "--tokenizer", tokenizer.toString(), "--seq-len", "16",
                "--splits", "train", "--out", packed.toString());
        Path publicModel = dir.resolve("public.safetensors");
        run("pretrain", "--preset", "tiny", "--packed", packed.toString(), "--tokenizer", tokenizer.toString(),
                "--steps", "4", "--batch", "2", "--threads", "1", "--corpus", corpus.toString(),
                "--router-documents", "8", "--out", publicModel.toString());
        for (String domain : List.of("math", "news")) {
            run("train-expert", "--public", publicModel.toString(), "--domain", domain, "--tokenizer",
                    tokenizer.toString(), "--packed", packed.toString(), "--corpus", corpus.toString(),
                    "--router-documents", "8", "--steps", "3", "--batch", "2", "--threads", "1", "--bias-init", "-1",
                    "--out", dir.resolve(domain + ".safetensors").toString());
        }
        composed = dir.resolve("flex.safetensors");
        run("compose", "--public", publicModel.toString(), "--experts", dir.resolve("math.safetensors").toString(),
                dir.resolve("news.safetensors").toString(), "--active-experts", "2", "--out", composed.toString());
    }

    private static void run(String... args) {
        assertThat(FlexMoeCli.run(args)).as(String.join(" ", args)).isZero();
    }

    /** The test's tune-router command line, with {@code option}'s value replaced by {@code value}. */
    private static String[] tune(Path out, String option, String value) {
        String[] a = tune(out);
        a[Arrays.asList(a).indexOf(option) + 1] = value;
        return a;
    }

    private static String[] tune(Path out) {
        List<String> a = new java.util.ArrayList<>(List.of("tune-router", "--model", composed.toString(), "--corpus",
                corpus.toString(), "--tokenizer", tokenizer.toString(), "--proxy-documents", "5", "--owner-documents",
                "8", "--steps", "4", "--batch", "2", "--threads", "1", "--out", out.toString()));
        return a.toArray(String[]::new);
    }

    @Test
    void tunesOnlyTheRouterRecordsItAndInspectShowsIt() throws IOException {
        Path out = dir.resolve("tuned.safetensors");
        console.takeOut();
        assertThat(FlexMoeCli.run(tune(out))).as(console.err()).isZero();
        String log = console.takeOut();
        assertThat(log).contains("proxy set math: 5 of ", "proxy set news: 5 of ", "mix: 15 documents (5 public sample)",
                "step 1/4  loss ", "step 4/4  loss ", "Wrote " + out + " (public+math+news, router tuned for 4 steps");
        assertThat(Files.exists(dir.resolve("tuned.safetensors.mix.bin"))).isTrue();

        ComposedModel before = ComposedModel.load(composed);
        ComposedModel after = ComposedModel.load(out);
        assertThat(after.routerTuned()).isTrue();
        Set<String> router = new HashSet<>();
        for (int i = 0; i < before.config().layers(); i++) {
            router.add(ParameterNames.router(i));
            router.add(ParameterNames.expertBias(i));
        }
        int changed = 0;
        for (NamedTensor t : after.tensors()) {
            NamedTensor b = before.tensors().stream().filter(x -> x.name().equals(t.name())).findFirst().orElseThrow();
            if (router.contains(t.name())) {
                changed += Arrays.equals(b.data(), t.data()) ? 0 : 1;
            } else {
                assertThat(t.data()).as(t.name()).isEqualTo(b.data());
            }
        }
        assertThat(changed).isEqualTo(router.size());
        JsonNode rec = after.metadata().routerTuning();
        assertThat(rec.get("steps").asLong()).isEqualTo(4);
        assertThat(rec.get("lr").asDouble()).isEqualTo(2e-3);
        assertThat(rec.get("seed").asLong()).isEqualTo(1);
        assertThat(rec.get("proxyDocuments").get("math").asInt()).isEqualTo(5);
        assertThat(rec.get("publicSampleDocuments").asInt()).isEqualTo(5);
        assertThat(rec.get("tokensSeen").asLong()).isEqualTo(4 * 2 * 16);

        // Same seed, same bits.
        Path again = dir.resolve("again.safetensors");
        assertThat(FlexMoeCli.run(tune(again))).as(console.err()).isZero();
        assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(out));

        console.takeOut();
        assertThat(FlexMoeCli.run("inspect", out.toString())).isZero();
        assertThat(console.takeOut()).contains("router-tuned after the merge", "\"steps\":4",
                "opt-out is exact only for the untuned composition");
        assertThat(FlexMoeCli.run("inspect", composed.toString())).isZero();
        assertThat(console.takeOut()).contains("as merged (the parts' own rows and biases; opt-out is exact)");

        // Opting out of the tuned model works mechanically; the result stays marked as tuned.
        Path optedOut = dir.resolve("tuned-without-news.safetensors");
        ComposedModel without = after.optOut(List.of("news"));
        without.save(optedOut);
        assertThat(ComposedModel.load(optedOut).routerTuned()).isTrue();
        assertThat(FlexMoeCli.run("eval", "--model", out.toString(), "--exclude", "news", "--corpus", corpus.toString(),
                "--tokenizer", tokenizer.toString(), "--cloze-questions", "0", "--threads", "1")).as(console.err())
                .isZero();
    }

    @Test
    void badInputIsAOneLineError() {
        Path out = dir.resolve("bad.safetensors");
        assertThat(FlexMoeCli.run(tune(out, "--steps", "0"))).isEqualTo(1);
        assertThat(console.takeErr()).startsWith("flexmoe: --steps: must be at least 1").hasLineCount(1);
        assertThat(FlexMoeCli.run(tune(out, "--proxy-documents", "0"))).isEqualTo(1);
        assertThat(console.takeErr()).startsWith("flexmoe: --proxy-documents: must be at least 1").hasLineCount(1);
        assertThat(FlexMoeCli.run("tune-router", "--model", dir.resolve("public.safetensors").toString(), "--corpus",
                corpus.toString(), "--tokenizer", tokenizer.toString(), "--out", out.toString())).isEqualTo(1);
        assertThat(console.takeErr()).contains("has no experts").hasLineCount(1);
        Path otherTok = dir.resolve("other-tokenizer.json");
        new BpeTrainer(280).train(Arrays.asList(new SyntheticText(5).documents(10))).save(otherTok);
        assertThat(FlexMoeCli.run(tune(out, "--tokenizer", otherTok.toString()))).isEqualTo(1);
        assertThat(console.takeErr()).contains("is not the tokenizer of").hasLineCount(1);
        assertThat(Files.exists(out)).isFalse();
        assertThat(FlexMoeCli.run("tune-router", "--help")).isZero();
        assertThat(console.takeOut()).contains("--proxy-documents", "--owner-documents", "--steps", "--lr");
    }
}
