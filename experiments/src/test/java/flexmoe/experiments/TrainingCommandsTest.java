package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.moe.artifact.Composer;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.artifact.ExpertArtifact;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.model.NamedTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** pretrain, train-expert and train-dense on a generated corpus (tiny preset): the artifacts load and compose. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainingCommandsTest {

    @TempDir
    static Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    private static Path corpus;
    private static Path tokenizer;
    private static Path packed;
    private static Path publicModel;

    @BeforeAll
    static void setUp() throws IOException {
        corpus = SyntheticCorpus.corpus(dir);
        // Trained on public text only; the tiny preset's vocabulary is replaced by the tokenizer's.
        tokenizer = SyntheticCorpus.tokenizer(dir);
        packed = dir.resolve("packed");
        assertThat(FlexMoeCli.run("data", "pack", "--corpus", corpus.toString(), "--tokenizer", tokenizer.toString(),
                "--seq-len", "16", "--splits", "train", "--out", packed.toString())).isZero();
        publicModel = dir.resolve("public.safetensors");
    }

    private static String[] args(String... a) {
        return a;
    }

    private static String[] with(String[] base, String... extra) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(extra));
        return all.toArray(String[]::new);
    }

    private static String[] pretrain(Path out, String... extra) {
        return with(args("pretrain", "--preset", "tiny", "--packed", packed.toString(), "--tokenizer",
                tokenizer.toString(), "--steps", "6", "--batch", "2", "--checkpoint-every", "3", "--threads", "1",
                "--corpus", corpus.toString(), "--router-documents", "8", "--out", out.toString()), extra);
    }

    @Test
    @Order(1)
    void pretrainWritesAPublicModelWithItsRouterEmbeddingAndResumesToTheSameBits() throws IOException {
        assertThat(FlexMoeCli.run(pretrain(publicModel))).as(console.err()).isZero();
        String out = console.takeOut();
        assertThat(out).contains("trained 6 steps, 192 tokens", "router embedding r_pub: hidden-mean over 8 document(s)",
                "Wrote " + publicModel);
        assertThat(console.takeErr()).contains("step 1/6  loss ", "step 6/6  loss ");
        PublicModelArtifact p = PublicModelArtifact.load(publicModel);
        assertThat(p.hasRouterEmbedding()).isTrue();
        assertThat(p.part().tokensSeen()).isEqualTo(6 * 2 * 16);
        assertThat(p.part().seed()).isEqualTo(1);
        assertThat(p.domain()).isEqualTo("public");
        assertThat(Files.exists(dir.resolve("public.safetensors.ckpt"))).isTrue();

        // Stopped after step 4 (mid-epoch), resumed from its checkpoint: the same public model file, byte for byte.
        Path resumed = dir.resolve("resumed.safetensors");
        Path ckpt = dir.resolve("resumed.ckpt");
        assertThat(FlexMoeCli.run(pretrain(resumed, "--checkpoint", ckpt.toString(), "--stop-after", "4")))
                .as(console.err()).isZero();
        assertThat(console.takeOut()).contains("stopped after step 4 of 6; continue with --resume " + ckpt);
        assertThat(Files.exists(resumed)).isFalse();
        assertThat(FlexMoeCli.run(pretrain(resumed, "--checkpoint", ckpt.toString(), "--resume", ckpt.toString())))
                .as(console.err()).isZero();
        assertThat(console.takeErr()).contains("flexmoe: resumed from " + ckpt + " at step 4", "step 5/6");
        assertThat(Files.readAllBytes(resumed)).isEqualTo(Files.readAllBytes(publicModel));
    }

    @Test
    @Order(2)
    void trainExpertTrainsOnlyTheExpertAndTheExpertsCompose() {
        Path math = dir.resolve("math.safetensors");
        Path news = dir.resolve("news.safetensors");
        for (Object[] e : new Object[][] {{"math", math, "hidden-mean"}, {"news", news, "random"}}) {
            int code = FlexMoeCli.run("train-expert", "--public", publicModel.toString(), "--domain", (String) e[0],
                    "--tokenizer", tokenizer.toString(), "--packed", packed.toString(), "--corpus", corpus.toString(),
                    "--router-init", (String) e[2], "--router-documents", "8", "--router-norm", "1", "--steps", "4", "--batch", "2",
                    "--threads", "1", "--out", e[1].toString());
            assertThat(code).as(console.err()).isZero();
            assertThat(console.takeOut()).contains("router embedding r_" + e[0] + ": " + e[2] + " over ", "norm 1.0000",
                    "trained 4 steps, 128 tokens", "Wrote " + e[1] + " (expert '" + e[0] + "'");
        }
        PublicModelArtifact p = PublicModelArtifact.load(publicModel);
        ExpertArtifact m = ExpertArtifact.load(math);
        assertThat(m.publicModel()).isEqualTo(p.fingerprint());
        assertThat(m.part().tokensSeen()).isEqualTo(4 * 2 * 16);
        assertThat(m.bias(0)).isNotEqualTo(-0.01f); // b_1 trained from its default init
        // The trained FFN moved away from the public FFN it was copied from.
        NamedTensor publicDown = p.tensors().stream().filter(t -> t.name().equals("model.layers.0.mlp.down_proj.weight"))
                .findFirst().orElseThrow();
        NamedTensor expertDown = m.tensors().stream().filter(t -> t.name().equals(
                "model.layers.0.mlp.experts.1.down_proj.weight")).findFirst().orElseThrow();
        assertThat(expertDown.data()).isNotEqualTo(publicDown.data());

        ComposedModel composed = Composer.compose(p, List.of(m, ExpertArtifact.load(news)), 2);
        assertThat(composed.expertNames()).containsExactly("public", "math", "news");
    }

    @Test
    @Order(3)
    void routerLrScaleZeroKeepsTheRouterRowAndBiasAtTheirInitAndIsRecorded() {
        Path frozen = dir.resolve("math-frozen-router.safetensors");
        Path full = dir.resolve("math-full-router.safetensors");
        for (Object[] run : new Object[][] {{frozen, "0"}, {full, "1"}}) {
            assertThat(FlexMoeCli.run("train-expert", "--public", publicModel.toString(), "--domain", "math",
                    "--tokenizer", tokenizer.toString(), "--packed", packed.toString(), "--router-init", "random",
                    "--bias-init", "-0.5", "--router-lr-scale", (String) run[1], "--steps", "3", "--batch", "2",
                    "--threads", "1", "--out", run[0].toString())).as(console.err()).isZero();
            console.takeOut();
            console.takeErr();
        }
        ExpertArtifact f = ExpertArtifact.load(frozen);
        ExpertArtifact u = ExpertArtifact.load(full);
        for (int l = 0; l < f.config().layers(); l++) {
            // Same seed, same random init: the unscaled run moved r_1 and b_1, the scale-0 run kept them.
            assertThat(f.bias(l)).isEqualTo(-0.5f);
            assertThat(u.bias(l)).isNotEqualTo(-0.5f);
            assertThat(f.routerRow(l)).isEqualTo(f.routerRow(0)).isNotEqualTo(u.routerRow(l));
        }
        assertThat(f.part().training().get("routerLrScale").asDouble()).isZero();
        assertThat(f.part().training().get("expertBiasInit").asDouble()).isEqualTo(-0.5);
        assertThat(f.part().training().get("routerInit").asText()).isEqualTo("random");
        assertThat(u.part().training().get("routerLrScale").asDouble()).isEqualTo(1.0);
        assertThat(FlexMoeCli.run("inspect", frozen.toString())).isZero();
        assertThat(console.takeOut()).contains("\"routerLrScale\":0.0");
        assertThat(FlexMoeCli.run("train-expert", "--public", publicModel.toString(), "--domain", "math",
                "--tokenizer", tokenizer.toString(), "--packed", packed.toString(), "--router-init", "random",
                "--router-lr-scale", "2", "--out", dir.resolve("never.safetensors").toString())).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: --router-lr-scale: must be in [0, 1], got 2.0\n");
    }

    @Test
    @Order(3)
    void trainDenseContinuesTheWholeModelAndLeavesThePublicFileAlone() throws IOException {
        byte[] before = Files.readAllBytes(publicModel);
        Path dense = dir.resolve("dense-math.safetensors");
        assertThat(FlexMoeCli.run("train-dense", "--model", publicModel.toString(), "--domain", "math", "--packed",
                packed.toString(), "--steps", "3", "--batch", "2", "--threads", "1", "--out", dense.toString()))
                .as(console.err()).isZero();
        assertThat(console.takeOut()).contains("trained 3 steps", "Wrote " + dense);
        PublicModelArtifact d = PublicModelArtifact.load(dense);
        assertThat(d.domain()).isEqualTo("math");
        assertThat(d.tokenizer()).isEqualTo(PublicModelArtifact.load(publicModel).tokenizer());
        assertThat(Files.readAllBytes(publicModel)).isEqualTo(before);
    }

    @Test
    @Order(4)
    void badInputGivesOneLineAndNoOutput() {
        Path out = dir.resolve("never.safetensors");
        assertThat(FlexMoeCli.run("train-expert", "--public", publicModel.toString(), "--domain", "code", "--tokenizer",
                tokenizer.toString(), "--packed", packed.toString(), "--router-init", "random", "--out",
                out.toString())).isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: --packed " + packed
                + ": no code.train.bin for domain 'code' (pack it with flexmoe data pack)\n");
        assertThat(FlexMoeCli.run("train-expert", "--public", publicModel.toString(), "--domain", "math",
                "--tokenizer", tokenizer.toString(), "--packed", packed.toString(), "--out", out.toString()))
                .isEqualTo(1);
        assertThat(console.takeErr()).isEqualTo("flexmoe: --router-init hidden-mean reads documents of domain 'math':"
                + " give --corpus DIR (or --router-init random)\n");
        assertThat(FlexMoeCli.run(pretrain(out, "--resume", publicModel.toString()))).isEqualTo(1);
        assertThat(console.takeErr()).startsWith("flexmoe: " + publicModel
                + ": not a flexmoe training checkpoint").hasLineCount(1);
        assertThat(Files.exists(out)).isFalse();
    }

    @Test
    void everyTrainingCommandHasHelp() {
        for (String cmd : new String[] {"pretrain", "train-expert", "train-dense"}) {
            assertThat(FlexMoeCli.run(cmd, "--help")).isZero();
            assertThat(console.takeOut()).contains("Usage: flexmoe " + cmd, "--packed", "--steps", "--resume",
                    "--stop-after", "--checkpoint-every");
            assertThat(console.takeErr()).as("picocli could format every description").doesNotContain("WARN");
        }
    }
}
