package flexmoe.moe.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Public-model and expert artifacts: round trips, fingerprints, extraction from a training model, and validation. */
class ArtifactTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void publicModelRoundTripsBitForBit() throws IOException {
        ModelConfig config = ModelConfig.preset("tiny");
        Parameters original = Parameters.init(config, 7);
        float[] rPub = ArtifactTesting.gaussian(config.dim(), 0.5, 70);
        PublicModelArtifact created = PublicModelArtifact.create(original, ArtifactPart.of("public", 12345, 7, null),
                ArtifactTesting.TOKENIZER).withRouterEmbedding(rPub);
        Path f = dir.resolve("public.safetensors");

        ArtifactFingerprint written = created.save(f);
        PublicModelArtifact loaded = PublicModelArtifact.load(f);

        assertThat(written).isEqualTo(created.fingerprint()).isEqualTo(loaded.fingerprint());
        assertThat(written.sha256()).isEqualTo(SafeTensorsTest.sha256(Files.readAllBytes(f)));
        assertThat(loaded.metadata()).isEqualTo(created.metadata());
        assertThat(loaded.domain()).isEqualTo("public");
        assertThat(loaded.part().tokensSeen()).isEqualTo(12345);
        assertThat(loaded.part().seed()).isEqualTo(7);
        assertThat(loaded.part().privacy()).isNull();
        assertThat(loaded.tokenizer()).isEqualTo(ArtifactTesting.TOKENIZER);
        assertThat(loaded.config()).isEqualTo(config);
        assertThat(loaded.source()).isEqualTo(f);
        Parameters back = loaded.parameters();
        for (Tensor t : original.tensors()) {
            assertThat(ArtifactTesting.sameBits(back.tensor(t.name()).data(), t.data())).as(t.name()).isTrue();
        }
        for (int l = 0; l < config.layers(); l++) {
            assertThat(loaded.routerEmbedding(l)).containsExactly(rPub);
        }
        SafeTensors.Header header = SafeTensors.readHeader(f);
        assertThat(loaded.tensorCount()).isEqualTo(header.entries().size())
                .isEqualTo(original.huggingFaceTensors().size() + config.layers());
        assertThat(loaded.tensorBytes()).isEqualTo(header.dataBytes()).isEqualTo(4 * (original.parameterCount()
                + (long) config.layers() * config.dim()));
        assertThat(header.metadata()).containsOnlyKeys("format", "flexmoe").containsEntry("format", "pt");
        assertThat(Artifact.load(f)).isInstanceOf(PublicModelArtifact.class);
    }

    @Test
    void theFingerprintChangesWithTheRouterEmbeddingAndTheMetadata() {
        Parameters p = Parameters.init(ModelConfig.preset("tiny"), 8);
        PublicModelArtifact bare = PublicModelArtifact.create(p, ArtifactPart.of("public", 1, 8, null),
                ArtifactTesting.TOKENIZER);
        PublicModelArtifact again = PublicModelArtifact.create(p, ArtifactPart.of("public", 1, 8, null),
                ArtifactTesting.TOKENIZER);
        PublicModelArtifact moreTokens = PublicModelArtifact.create(p, ArtifactPart.of("public", 2, 8, null),
                ArtifactTesting.TOKENIZER);
        PublicModelArtifact withRouter = bare.withRouterEmbedding(new float[32]);

        assertThat(bare.hasRouterEmbedding()).isFalse();
        assertThat(withRouter.hasRouterEmbedding()).isTrue();
        assertThat(again.fingerprint()).isEqualTo(bare.fingerprint());
        assertThat(moreTokens.fingerprint()).isNotEqualTo(bare.fingerprint());
        assertThat(withRouter.fingerprint()).isNotEqualTo(bare.fingerprint());
        assertThat(withRouter.withRouterEmbedding(new float[32]).fingerprint()).isEqualTo(withRouter.fingerprint());
        assertThatThrownBy(() -> bare.withRouterEmbedding(new float[31]))
                .hasMessage("public router embedding: layer 0 has width 31, the model's is 32");
        assertThatThrownBy(() -> bare.routerEmbedding(0)).hasMessageContaining("has no router embedding yet");
        assertThatThrownBy(() -> PublicModelArtifact.create(Parameters.init(ModelConfig.preset("tiny")
                .withExperts(2, 2), 1), ArtifactPart.of("public", 0, 0, null), ArtifactTesting.TOKENIZER))
                .hasMessage("public model: must be dense (experts 1), got 2 experts");
    }

    @Test
    void expertRoundTripsAndHoldsOnlyItsOwnTensors() throws IOException {
        PublicModelArtifact pub = ArtifactTesting.publicModel(1);
        Parameters trained = ArtifactTesting.trainingModel(pub, 11);
        ObjectNode privacy = JSON.createObjectNode().put("epsilon", 8.0).put("delta", 1e-6);
        ExpertArtifact expert = ExpertArtifact.fromTrainingModel(trained, pub,
                ArtifactPart.of("math", 4096, 11, privacy));
        Path f = dir.resolve("math.safetensors");

        assertThat(expert.save(f)).isEqualTo(expert.fingerprint());
        ExpertArtifact loaded = ExpertArtifact.load(f);

        ModelConfig c = pub.config();
        assertThat(loaded.domain()).isEqualTo("math");
        assertThat(loaded.publicModel()).isEqualTo(pub.fingerprint());
        assertThat(loaded.tokenizer()).isEqualTo(pub.tokenizer());
        assertThat(loaded.config()).isEqualTo(trained.config());
        assertThat(loaded.part().privacy()).isEqualTo(privacy);
        assertThat(loaded.part().tokensSeen()).isEqualTo(4096);
        assertThat(loaded.tensorCount()).isEqualTo(5 * c.layers());
        for (int l = 0; l < c.layers(); l++) {
            assertThat(loaded.routerRow(l)).containsExactly(trained.expert(l, 1).routerRow().data());
            assertThat(loaded.publicRouterRow(l)).containsExactly(pub.routerEmbedding(l));
            assertThat(loaded.bias(l)).isEqualTo(trained.expert(l, 1).bias().data()[0]).isNegative();
            float[] gateUp = trained.expert(l, 1).gateUp().data();
            float[] gate = loaded.ffn(l, "gate").data();
            float[] up = loaded.ffn(l, "up").data();
            assertThat(ArtifactTesting.sameBits(gate, java.util.Arrays.copyOf(gateUp, gate.length))).isTrue();
            assertThat(ArtifactTesting.sameBits(up, java.util.Arrays.copyOfRange(gateUp, gate.length,
                    gateUp.length))).isTrue();
            assertThat(ArtifactTesting.sameBits(loaded.ffn(l, "down").data(), trained.expert(l, 1).down().data()))
                    .isTrue();
        }
        assertThat(Artifact.load(f)).isInstanceOf(ExpertArtifact.class);
        assertThatThrownBy(() -> PublicModelArtifact.load(f))
                .hasMessage(f + ": is an expert artifact, expected a public one");
    }

    @Test
    void anExpertIsRefusedWhenTrainingChangedWhatIsNotItsOwn() {
        PublicModelArtifact pub = ArtifactTesting.publicModel(2);
        ArtifactPart part = ArtifactPart.of("code", 1, 2, null);

        Parameters headChanged = ArtifactTesting.trainingModel(pub, 21);
        headChanged.lmHead().data()[5] += 1e-3f;
        assertThatThrownBy(() -> ExpertArtifact.fromTrainingModel(headChanged, pub, part))
                .hasMessageStartingWith("expert code: tensor lm_head.weight of the training model differs from the"
                        + " public model's lm_head.weight");

        Parameters publicFfnChanged = ArtifactTesting.trainingModel(pub, 22);
        publicFfnChanged.expert(1, 0).down().data()[0] += 1e-3f;
        assertThatThrownBy(() -> ExpertArtifact.fromTrainingModel(publicFfnChanged, pub, part))
                .hasMessageStartingWith("expert code: tensor model.layers.1.mlp.experts.0.down_proj.weight of the"
                        + " training model differs from the public model's model.layers.1.mlp.down_proj.weight");

        Parameters routerChanged = ArtifactTesting.trainingModel(pub, 23);
        routerChanged.expert(0, 0).routerRow().data()[3] += 1e-3f;
        assertThatThrownBy(() -> ExpertArtifact.fromTrainingModel(routerChanged, pub, part))
                .hasMessageContaining("router row 0 of layer 0 of the training model differs from the public router"
                        + " embedding");

        PublicModelArtifact bare = PublicModelArtifact.create(pub.parameters(), pub.part(), pub.tokenizer());
        assertThatThrownBy(() -> ExpertArtifact.fromTrainingModel(ArtifactTesting.trainingModel(pub, 24), bare, part))
                .hasMessageContaining("has no router embedding");
        assertThatThrownBy(() -> ExpertArtifact.fromTrainingModel(pub.parameters(), pub, part))
                .hasMessage("expert code: the training model must have 2 experts [public, expert], got 1");
    }

    // ---- validation on load ------------------------------------------------------------------------------------

    /** Writes the artifact's tensors with its metadata JSON edited. */
    private Path withMetadata(Artifact a, Consumer<ObjectNode> edit) {
        ObjectNode json = a.metadata().toJson(SafeTensors.dataSha256(a.tensors()));
        edit.accept(json);
        return write(a.tensors(), Map.of("format", "pt", "flexmoe", json.toString()));
    }

    private Path write(List<NamedTensor> tensors, Map<String, String> metadata) {
        Path f = dir.resolve("edited-" + System.nanoTime() + ".safetensors");
        SafeTensors.write(f, tensors, metadata);
        return f;
    }

    static Stream<Arguments> badMetadata() {
        return Stream.of(
                Arguments.of((Consumer<ObjectNode>) o -> o.remove("seed"), "field seed: is missing"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("owner", "x"), "field owner: is not a field of this"
                        + " kind of artifact"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("tokensSeen", "12"), "field tokensSeen: expected an"
                        + " integer (64-bit), got a string"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("seed", 1.5), "field seed: expected an integer"
                        + " (64-bit), got a non-integral number"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("tokensSeen", -1), "field tokensSeen: tokensSeen must"
                        + " be non-negative, got -1"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("formatVersion", 2), "field formatVersion: this"
                        + " flexmoe reads format version 1, got 2"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("kind", "checkpoint"), "field kind: expected public,"
                        + " expert or composed, got 'checkpoint'"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("kind", "composed"),
                        "field publicModelSha256: is missing"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("domain", "two words"), "field domain: domain must be"
                        + " 1 to 64 letters"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("privacy", "none"), "field privacy: expected null or"
                        + " an object, got a string"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("training", "none"), "field training: expected null or"
                        + " an object, got a string"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("tokenizerSha256", "abc"), "field tokenizerSha256:"
                        + " expected 64 lowercase hex digits"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).put("dim", "32"),
                        "field config.dim: expected an integer (32-bit), got a string"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).put("dim", 1L << 40),
                        "field config.dim: expected an integer (32-bit), got an integer beyond 32 bits"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).remove("heads"),
                        "field config.heads: is missing"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).put("dropout", 0.1),
                        "field config.dropout: is not a field"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).put("ropeTheta", "big"),
                        "field config.ropeTheta: expected a finite number, got a string"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).put("topK", 3),
                        "field config: ModelConfig.topK: must be in [1, experts = 1], got 3"),
                Arguments.of((Consumer<ObjectNode>) o -> ((ObjectNode) o.get("config")).put("dim", 64),
                        "tensor model.layers.0.mlp.gate.weight has shape [1, 32], expected [1, 64]"),
                Arguments.of((Consumer<ObjectNode>) o -> o.put("dataSha256", "0".repeat(64)),
                        "the metadata says 000000000000: the tensor data is corrupt"));
    }

    /** An expert's training settings round-trip; a file written before the field existed reads as "not recorded". */
    @Test
    void trainingSettingsRoundTripAndMayBeAbsent() {
        PublicModelArtifact pub = ArtifactTesting.publicModel(1);
        Parameters trained = ArtifactTesting.trainingModel(pub, 11);
        ObjectNode training = JSON.createObjectNode().put("lr", 1e-3).put("routerLrScale", 0.1);
        ExpertArtifact expert = ExpertArtifact.fromTrainingModel(trained, pub,
                ArtifactPart.of("math", 4096, 11, null).withTraining(training));
        Path f = dir.resolve("math-training.safetensors");
        expert.save(f);
        assertThat(ExpertArtifact.load(f).part().training()).isEqualTo(training);
        ComposedModel composed = Composer.compose(pub, List.of(ExpertArtifact.load(f)), 2);
        Path c = dir.resolve("composed-training.safetensors");
        composed.save(c);
        assertThat(ComposedModel.load(c).metadata().parts().get(1).training()).isEqualTo(training);
        assertThat(ComposedModel.load(c).metadata().parts().get(0).training()).isNull();

        Path old = withMetadata(ArtifactTesting.publicModel(3), o -> o.remove("training"));
        assertThat(Artifact.load(old).metadata().parts().getFirst().training()).isNull();
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badMetadata")
    void badMetadataNamesTheField(Consumer<ObjectNode> edit, String expected) {
        Path f = withMetadata(ArtifactTesting.publicModel(3), edit);
        assertThatThrownBy(() -> Artifact.load(f)).isInstanceOf(ArtifactFormatException.class)
                .hasMessageStartingWith(f + ": ").hasMessageContaining(expected);
    }

    @Test
    void badMetadataKeysAndJson() {
        PublicModelArtifact pub = ArtifactTesting.publicModel(4);
        String json = pub.metadata().toJsonString(SafeTensors.dataSha256(pub.tensors()));
        Path extra = write(pub.tensors(), Map.of("format", "pt", "flexmoe", json, "license", "mit"));
        assertThatThrownBy(() -> Artifact.load(extra)).hasMessage(extra + ": unexpected __metadata__ key 'license'"
                + " (a flexmoe artifact has only format and flexmoe)");
        Path tf = write(pub.tensors(), Map.of("format", "tf", "flexmoe", json));
        assertThatThrownBy(() -> Artifact.load(tf)).hasMessage(tf + ": __metadata__ format is 'tf', expected 'pt'");
        Path none = write(pub.tensors(), Map.of("format", "pt"));
        assertThatThrownBy(() -> Artifact.load(none))
                .hasMessage(none + ": no __metadata__ key flexmoe: not a flexmoe artifact");
        Path notJson = write(pub.tensors(), Map.of("flexmoe", "{\"formatVersion\": 1,"));
        assertThatThrownBy(() -> Artifact.load(notJson)).hasMessageStartingWith(notJson + ": the flexmoe metadata is"
                + " not valid JSON: ");
        Path deep = write(pub.tensors(), Map.of("flexmoe", "[".repeat(10_000) + "]".repeat(10_000)));
        assertThatThrownBy(() -> Artifact.load(deep)).isInstanceOf(ArtifactFormatException.class)
                .hasMessageContaining("not valid JSON").hasMessageContaining("nesting depth");
        Path array = write(pub.tensors(), Map.of("flexmoe", "[1]"));
        assertThatThrownBy(() -> Artifact.load(array))
                .hasMessage(array + ": flexmoe metadata: expected a JSON object, got an array");
        Path duplicate = write(pub.tensors(), Map.of("flexmoe", json.replace("{\"formatVersion\":1,",
                "{\"formatVersion\":1,\"formatVersion\":1,")));
        assertThatThrownBy(() -> Artifact.load(duplicate)).hasMessageContaining("Duplicate field 'formatVersion'");
    }

    @Test
    void theTensorSetMustMatchTheConfig() {
        PublicModelArtifact pub = ArtifactTesting.publicModel(5);

        List<NamedTensor> extra = new ArrayList<>(pub.tensors());
        extra.add(new NamedTensor("model.layers.9.mlp.gate_proj.weight", new int[] {2}, new float[] {1, 2}));
        assertThatThrownBy(() -> Artifact.load(withChecksum(extra, pub)))
                .hasMessageContaining("unexpected tensor model.layers.9.mlp.gate_proj.weight for a model with 2 layers"
                        + " and 1 experts");

        List<NamedTensor> missing = new ArrayList<>(pub.tensors());
        missing.removeIf(t -> t.name().equals(ParameterNames.LM_HEAD));
        assertThatThrownBy(() -> Artifact.load(withChecksum(missing, pub)))
                .hasMessageContaining("tensor lm_head.weight is missing");

        List<NamedTensor> partialRouter = new ArrayList<>(pub.tensors());
        partialRouter.removeIf(t -> t.name().equals(ParameterNames.router(1)));
        assertThatThrownBy(() -> Artifact.load(withChecksum(partialRouter, pub)))
                .hasMessageContaining("the public router embedding (model.layers.{i}.mlp.gate.weight) is in 1 of 2"
                        + " layers");

        List<NamedTensor> wideRouter = new ArrayList<>(pub.tensors());
        wideRouter.replaceAll(t -> t.name().equals(ParameterNames.router(0))
                ? new NamedTensor(t.name(), new int[] {2, 32}, new float[64]) : t);
        assertThatThrownBy(() -> Artifact.load(withChecksum(wideRouter, pub)))
                .hasMessageContaining("tensor model.layers.0.mlp.gate.weight has shape [2, 32], expected [1, 32]");
    }

    @Test
    void anExpertFileMustHoldExactlyTheExpertsTensors() {
        PublicModelArtifact pub = ArtifactTesting.publicModel(6);
        ExpertArtifact expert = ArtifactTesting.expert(pub, "news", 61);

        List<NamedTensor> withHead = new ArrayList<>(expert.tensors());
        withHead.add(pub.tensors().stream().filter(t -> t.name().equals(ParameterNames.LM_HEAD)).findFirst()
                .orElseThrow());
        assertThatThrownBy(() -> Artifact.load(withChecksum(withHead, expert)))
                .hasMessageContaining("unexpected tensor 'lm_head.weight' in an expert file");

        List<NamedTensor> publicBias = new ArrayList<>(expert.tensors());
        publicBias.replaceAll(t -> t.name().equals(ParameterNames.expertBias(1))
                ? new NamedTensor(t.name(), t.shape(), new float[] {-0.5f, t.data()[1]}) : t);
        assertThatThrownBy(() -> Artifact.load(withChecksum(publicBias, expert)))
                .hasMessageContaining("tensor model.layers.1.mlp.gate.expert_bias[0] must be 0 (the public expert has"
                        + " no bias), got -0.5");

        List<NamedTensor> noDown = new ArrayList<>(expert.tensors());
        noDown.removeIf(t -> t.name().equals(ParameterNames.ffn(0, 1, false, "down")));
        assertThatThrownBy(() -> Artifact.load(withChecksum(noDown, expert)))
                .hasMessageContaining("tensor model.layers.0.mlp.experts.1.down_proj.weight is missing");
    }

    /** The tensors with the artifact's metadata and a matching dataSha256, so that only the layout is wrong. */
    private Path withChecksum(List<NamedTensor> tensors, Artifact a) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("flexmoe", a.metadata().toJsonString(SafeTensors.dataSha256(tensors)));
        return write(tensors, meta);
    }
}
