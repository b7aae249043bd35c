package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.moe.artifact.ArtifactPart;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.artifact.ExpertArtifact;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code flexmoe inspect}, {@code compose} and {@code routing} on tiny artifacts made here. */
class ArtifactCommandsTest {

    private static final TokenizerFingerprint TOKENIZER = TokenizerFingerprint.ofBytes("t".getBytes(
            StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    private Path publicFile;
    private PublicModelArtifact publicModel;
    private Path math;
    private Path code;

    @BeforeEach
    void setUp() {
        publicFile = dir.resolve("public.safetensors");
        publicModel = publicModel(1);
        publicModel.save(publicFile);
        math = dir.resolve("math.safetensors");
        code = dir.resolve("code.safetensors");
        expert(publicModel, "math", 2).save(math);
        expert(publicModel, "code", 3).save(code);
    }

    static PublicModelArtifact publicModel(long seed) {
        ModelConfig c = ModelConfig.preset("tiny");
        float[] rPub = new float[c.dim()];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < rPub.length; i++) {
            rPub[i] = (float) (0.5 * rng.nextGaussian());
        }
        return PublicModelArtifact.create(Parameters.init(c, seed), ArtifactPart.of("public", 1000, seed, null),
                TOKENIZER).withRouterEmbedding(rPub);
    }

    /** A stand-in for coordinated training: the upcycled 2-expert model with a perturbed expert 1. */
    static ExpertArtifact expert(PublicModelArtifact pub, String domain, long seed) {
        ModelConfig c = pub.config();
        SplittableRandom rng = new SplittableRandom(seed);
        List<NamedTensor> tensors = new ArrayList<>();
        for (NamedTensor t : pub.parameters().huggingFaceTensors()) {
            String name = t.name();
            for (int l = 0; l < c.layers(); l++) {
                for (String proj : List.of("gate", "up", "down")) {
                    if (t.name().equals(ParameterNames.ffn(l, 0, true, proj))) {
                        tensors.add(new NamedTensor(ParameterNames.ffn(l, 0, false, proj), t.shape(), t.data()));
                        float[] trained = t.data().clone();
                        for (int i = 0; i < trained.length; i++) {
                            trained[i] += (float) (0.05 * rng.nextGaussian());
                        }
                        tensors.add(new NamedTensor(ParameterNames.ffn(l, 1, false, proj), t.shape(), trained));
                        name = null;
                    }
                }
            }
            if (name != null) {
                tensors.add(t);
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            float[] router = new float[2 * c.dim()];
            System.arraycopy(pub.routerEmbedding(l), 0, router, 0, c.dim());
            for (int i = c.dim(); i < router.length; i++) {
                router[i] = (float) (0.5 * rng.nextGaussian());
            }
            tensors.add(new NamedTensor(ParameterNames.router(l), new int[] {2, c.dim()}, router));
            tensors.add(new NamedTensor(ParameterNames.expertBias(l), new int[] {2}, new float[] {0, -0.05f}));
        }
        Parameters trained = Parameters.fromHuggingFace(c.withExperts(2, 2), tensors);
        return ExpertArtifact.fromTrainingModel(trained, pub, ArtifactPart.of(domain, 500, seed, null));
    }

    @Test
    void composeWritesAModelThatInspectDescribes() throws IOException {
        Path out = dir.resolve("composed.safetensors");
        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                code.toString(), "--active-experts", "2", "--out", out.toString())).isZero();
        String composeOut = console.takeOut();
        assertThat(composeOut).contains("composed: public + math + code, top-2 of 3 experts")
                .contains("wrote " + out + " (sha256:" + sha256(out) + ")");
        ComposedModel loaded = ComposedModel.load(out);
        assertThat(loaded.expertNames()).containsExactly("public", "math", "code");

        assertThat(FlexMoeCli.run("inspect", out.toString())).isZero();
        String inspect = console.takeOut();
        assertThat(inspect).contains("kind              composed")
                .contains("experts           public, math, code (top-2 of 3)")
                .contains("public model      sha256:" + publicModel.fingerprint().sha256())
                .contains("sha256            " + sha256(out))
                .containsPattern("  1  math +" + ExpertArtifact.load(math).fingerprint().shortForm());

        assertThat(FlexMoeCli.run("inspect", "--json", out.toString())).isZero();
        JsonNode json = new ObjectMapper().readTree(console.takeOut());
        assertThat(json.get("sha256").asText()).isEqualTo(sha256(out));
        assertThat(json.get("tensors").asInt()).isEqualTo(loaded.tensorCount());
        assertThat(json.get("metadata").get("kind").asText()).isEqualTo("composed");
        assertThat(json.get("metadata").get("parts")).hasSize(3);
        assertThat(console.err()).isEmpty();
    }

    @Test
    void composeWithExcludeAndNoOutWritesNothing() throws IOException {
        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                code.toString(), "--exclude", "code")).isZero();
        assertThat(console.out()).contains("excluded: code").contains("composed: public + math, top-2 of 2 experts")
                .contains("no --out: checked only, nothing written");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).hasSize(3);
        }
    }

    @Test
    void inspectDescribesPublicAndExpertFiles() {
        assertThat(FlexMoeCli.run("inspect", "--tensors", publicFile.toString())).isZero();
        assertThat(console.takeOut()).contains("kind              public").contains("domain            public")
                .contains("config            vocab 64, dim 32, layers 2, heads 2, ffn 64, max seq 16, experts 1 (top-1)")
                .contains("tokens seen       1,000").contains("privacy           none (trained without DP)")
                .contains("router embedding  r_pub in all 2 layers")
                .contains("tokenizer         sha256:" + TOKENIZER.sha256())
                .contains("model.layers.0.mlp.gate.weight").contains("[1, 32]");

        assertThat(FlexMoeCli.run("inspect", math.toString())).isZero();
        assertThat(console.takeOut()).contains("kind              expert").contains("domain            math")
                .contains("experts 2 (top-2)").contains("expert bias       -0.05000, -0.05000")
                .contains("public model      sha256:" + publicModel.fingerprint().sha256())
                .contains("tensors           10 (");
    }

    @Test
    void refusalsAndBadFilesAreOneLineErrors() throws IOException {
        Path otherPublic = dir.resolve("other.safetensors");
        PublicModelArtifact other = publicModel(9);
        other.save(otherPublic);
        Path out = dir.resolve("never.safetensors");
        assertThat(FlexMoeCli.run("compose", "--public", otherPublic.toString(), "--experts", math.toString(),
                "--out", out.toString())).isEqualTo(1);
        assertOneLineError("flexmoe: expert math (" + math + ") was trained against public model "
                + publicModel.fingerprint().shortForm() + ", not " + other.fingerprint().shortForm());
        assertThat(out).doesNotExist();

        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                "--exclude", "news")).isEqualTo(1);
        assertOneLineError("flexmoe: --exclude: unknown expert 'news' (the expert files given: math)");

        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                "--active-experts", "3")).isEqualTo(1);
        assertOneLineError("flexmoe: top-k must be in [1, 2] for the public model and 1 expert, got 3");

        assertThat(FlexMoeCli.run("compose", "--public", math.toString())).isEqualTo(1);
        assertOneLineError("flexmoe: " + math + ": is an expert artifact, expected a public one");

        byte[] bytes = Files.readAllBytes(math);
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertThat(FlexMoeCli.run("inspect", truncated.toString())).isEqualTo(1);
        assertOneLineError("flexmoe: " + truncated + ": tensor 'model.layers.1.mlp.gate.weight': data_offsets");

        assertThat(FlexMoeCli.run("inspect", dir.resolve("missing.safetensors").toString())).isEqualTo(1);
        assertOneLineError("flexmoe: " + dir.resolve("missing.safetensors") + ": cannot read: no such file");
    }

    /** Packs random tokens as {@code <domain>.test.bin} with the given tokenizer fingerprint. */
    private Path pack(Path packed, String domain, TokenizerFingerprint tokenizer, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[17 * 6];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(64);
        }
        Path f = packed.resolve(domain + ".test.bin");
        try (PackedSequences.Writer w = new PackedSequences.Writer(f, 64, 16, tokenizer)) {
            w.append(ids, 0, ids.length);
            w.documentEnded();
            w.commit();
        }
        return f;
    }

    @Test
    void routingReportsSharesPerDomainWithOptOut() throws IOException {
        Path model = dir.resolve("composed.safetensors");
        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                code.toString(), "--active-experts", "2", "--out", model.toString())).isZero();
        console.takeOut();
        Path packed = Files.createDirectories(dir.resolve("packed"));
        pack(packed, "math", TOKENIZER, 1);
        pack(packed, "news", TOKENIZER, 2);
        Path csv = dir.resolve("routing.csv");

        assertThat(FlexMoeCli.run("routing", "--model", model.toString(), "--packed", packed.toString(),
                "--max-sequences", "5", "--batch", "2", "--threads", "1", "--csv", csv.toString())).isZero();
        String table = console.takeOut();
        assertThat(table).contains("layer 0: share of tokens whose top-2 includes the expert (uniform 0.667)")
                .containsPattern("domain +tokens +public +math +code")
                .containsPattern("math +80 ").containsPattern("news +80 ").contains("wrote " + csv);
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines).hasSize(1 + 2 * 2 * 3);
        // each token counts top-k = 2 distinct experts: the shares of a row add up to 2
        double sum = lines.stream().skip(1).filter(l -> l.startsWith("1,news,"))
                .mapToDouble(l -> Double.parseDouble(l.split(",")[5])).sum();
        assertThat(sum).isCloseTo(2.0, org.assertj.core.api.Assertions.within(1e-12));

        assertThat(FlexMoeCli.run("routing", "--model", model.toString(), "--exclude", "code", "--active-experts", "1",
                "--packed", packed.toString(), "--domains", "news", "--threads", "1")).isZero();
        assertThat(console.takeOut()).contains("top-1 includes the expert (uniform 0.500)")
                .containsPattern("domain +tokens +public +math\\R").doesNotContain("code");

        assertThat(FlexMoeCli.run("routing", "--model", model.toString(), "--experts", "math", "--exclude", "code",
                "--packed", packed.toString())).isEqualTo(1);
        assertOneLineError("flexmoe: --experts and --exclude: give one or the other, not both");

        assertThat(FlexMoeCli.run("routing", "--model", model.toString(), "--exclude", "poetry",
                "--packed", packed.toString())).isEqualTo(1);
        assertOneLineError("flexmoe: unknown expert 'poetry' (known: public, math, code)");

        Path other = Files.createDirectories(dir.resolve("other"));
        Path f = pack(other, "math", TokenizerFingerprint.ofBytes(new byte[] {1}), 3);
        assertThat(FlexMoeCli.run("routing", "--model", model.toString(), "--packed", other.toString()))
                .isEqualTo(1);
        assertOneLineError("flexmoe: " + f + ": packed with tokenizer ");
    }

    @Test
    void optOutThroughTheCommandLineGivesTheLogitsOfTheModelComposedWithoutTheExpert() throws Exception {
        Path both = dir.resolve("both.safetensors");
        Path mathOnly = dir.resolve("math-only.safetensors");
        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                code.toString(), "--active-experts", "2", "--out", both.toString())).isZero();
        assertThat(FlexMoeCli.run("compose", "--public", publicFile.toString(), "--experts", math.toString(),
                "--active-experts", "2", "--out", mathOnly.toString())).isZero();
        Path optedOut = dir.resolve("opted-out.npy");
        Path direct = dir.resolve("direct.npy");
        Path withCode = dir.resolve("with-code.npy");
        String ids = "5,17,3,40,2,9,33,1";
        assertThat(FlexMoeCli.run("logits", "--model", both.toString(), "--exclude", "code", "--ids", ids, "--out",
                optedOut.toString())).isZero();
        assertThat(FlexMoeCli.run("logits", "--model", mathOnly.toString(), "--ids", ids, "--out", direct.toString()))
                .isZero();
        assertThat(FlexMoeCli.run("logits", "--model", both.toString(), "--ids", ids, "--out", withCode.toString()))
                .isZero();
        assertThat(Files.readAllBytes(optedOut)).isEqualTo(Files.readAllBytes(direct));
        assertThat(Files.readAllBytes(withCode)).isNotEqualTo(Files.readAllBytes(direct));
    }

    @Test
    void helpIsThereForEachCommand() {
        assertThat(FlexMoeCli.run("compose", "--help")).isZero();
        assertThat(console.takeOut()).contains("--public=FILE").contains("--experts").contains("--exclude")
                .contains("--active-experts=K").contains("--out=FILE");
        assertThat(FlexMoeCli.run("inspect", "--help")).isZero();
        assertThat(console.takeOut()).contains("--json").contains("--tensors").contains("FILE");
        assertThat(FlexMoeCli.run("routing", "--help")).isZero();
        assertThat(console.takeOut()).contains("--model=FILE").contains("--experts=NAME").contains("--exclude=NAME")
                .contains("--packed=DIR").contains("--csv=FILE");
    }

    private void assertOneLineError(String start) {
        String err = console.takeErr();
        assertThat(err).startsWith(start);
        assertThat(err.strip().lines()).hasSize(1);
    }

    private static String sha256(Path f) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
