package flexmoe.moe.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.router.RouterTuning;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Router tuning of a composed model: exactly the router rows and expert biases change, the artifact records the tuning
 * and round-trips, opting out of a tuned model still works mechanically and stays marked as tuned.
 */
class RouterTuningTest {

    private static Backend backend;
    private static PublicModelArtifact publicModel;
    private static ComposedModel composed;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
        publicModel = ArtifactTesting.publicModel(1);
        composed = Composer.compose(publicModel, List.of(ArtifactTesting.expert(publicModel, "math", 2),
                ArtifactTesting.expert(publicModel, "code", 3)), 2);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private PackedSequences mix(String name, long seed) {
        ModelConfig c = composed.config();
        Path file = dir.resolve(name);
        SplittableRandom rng = new SplittableRandom(seed);
        try (PackedSequences.Writer w = new PackedSequences.Writer(file, c.vocabSize(), c.maxSeqLen(),
                ArtifactTesting.TOKENIZER)) {
            for (int i = 0; i < 20 * (c.maxSeqLen() + 1); i++) {
                w.append(rng.nextInt(c.vocabSize()));
            }
            w.commit();
        }
        return PackedSequences.load(file);
    }

    private static final RouterTuning.Settings SETTINGS = new RouterTuning.Settings(6, 2e-2, 4, 7, 10);

    private RouterTuning.Result tune(String mixName) {
        PackedSequences mix = mix(mixName, 5);
        ObjectNode record = RouterTuning.record(SETTINGS, Map.of("math", 10, "code", 10), 10, mix);
        return RouterTuning.tune(composed, mix, SETTINGS, record, backend, null, 0);
    }

    private static Set<String> routerNames(ModelConfig c) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < c.layers(); i++) {
            names.add(ParameterNames.router(i));
            names.add(ParameterNames.expertBias(i));
        }
        return names;
    }

    @Test
    void markTrainableSelectsExactlyTheRouterRowsAndBiases() {
        Parameters p = composed.parameters();
        RouterTuning.markTrainable(p);
        ModelConfig c = p.config();
        // Per layer: one row per expert (r_pub included) and a bias for each expert but the public one.
        assertThat(p.trainable()).hasSize(c.layers() * (c.experts() + c.experts() - 1));
        for (Tensor t : p.trainable()) {
            assertThat(t.kind()).as(t.name()).isIn(Tensor.Kind.ROUTER, Tensor.Kind.BIAS);
        }
        assertThat(p.trainable()).extracting(Tensor::name).contains(ParameterNames.routerRow(0, 0));
    }

    @Test
    void onlyTheRouterChangesAndTheModelRecordsTheTuning() {
        RouterTuning.Result r = tune("mix.bin");
        ComposedModel tuned = r.model();
        Set<String> router = routerNames(composed.config());
        int changed = 0;
        for (NamedTensor t : tuned.tensors()) {
            float[] before = composed.stored(t.name()).data();
            if (router.contains(t.name())) {
                changed += java.util.Arrays.equals(before, t.data()) ? 0 : 1;
            } else {
                assertThat(t.data()).as(t.name()).isEqualTo(before);
            }
        }
        assertThat(changed).isEqualTo(router.size());
        // r_pub itself moves (the paper tunes every row, r_pub included).
        float[] before = composed.stored(ParameterNames.router(0)).data();
        float[] after = tuned.stored(ParameterNames.router(0)).data();
        int d = composed.config().dim();
        assertThat(java.util.Arrays.copyOf(after, d)).isNotEqualTo(java.util.Arrays.copyOf(before, d));
        // The public expert still has no bias.
        assertThat(tuned.stored(ParameterNames.expertBias(0)).data()[0]).isZero();

        assertThat(tuned.routerTuned()).isTrue();
        assertThat(composed.routerTuned()).isFalse();
        ObjectNode rec = tuned.metadata().routerTuning();
        assertThat(rec.get("steps").asLong()).isEqualTo(6);
        assertThat(rec.get("lr").asDouble()).isEqualTo(2e-2);
        assertThat(rec.get("weightDecay").asDouble()).isEqualTo(RouterTuning.PAPER_WEIGHT_DECAY);
        assertThat(rec.get("proxyDocuments").get("math").asInt()).isEqualTo(10);
        assertThat(rec.get("tokensSeen").asLong()).isEqualTo(6L * 4 * composed.config().maxSeqLen());
        assertThat(rec.get("optOut").asText()).contains("untuned");
        assertThat(r.summary().steps()).isEqualTo(6);
        assertThat(tuned.describe()).contains("router-tuned");
        assertThat(tuned.metadata().parts()).isEqualTo(composed.metadata().parts());
    }

    @Test
    void sameSeedSameBitsAndTheFileRoundTrips() {
        ComposedModel a = tune("a.bin").model();
        ComposedModel b = tune("b.bin").model();
        ArtifactFingerprint fa = a.save(dir.resolve("a.safetensors"));
        assertThat(b.save(dir.resolve("b.safetensors"))).isEqualTo(fa);

        ComposedModel loaded = ComposedModel.load(dir.resolve("a.safetensors"));
        assertThat(loaded.routerTuned()).isTrue();
        // JSON numbers read back as the narrowest type, so compare the metadata as written.
        assertThat(loaded.metadata().toJsonString("")).isEqualTo(a.metadata().toJsonString(""));
        assertThat(loaded.fingerprint()).isEqualTo(fa);
        for (NamedTensor t : a.tensors()) {
            assertThat(loaded.stored(t.name()).data()).as(t.name()).isEqualTo(t.data());
        }
        assertThat(Artifact.load(dir.resolve("a.safetensors"))).isInstanceOf(ComposedModel.class);
    }

    @Test
    void optOutOfATunedModelDropsTheExpertButIsNotTheUntunedComposition() {
        ComposedModel tuned = tune("mix.bin").model();
        ComposedModel without = tuned.optOut(List.of("code"));
        assertThat(without.expertNames()).containsExactly("public", "math");
        assertThat(without.routerTuned()).isTrue();
        int d = composed.config().dim();
        float[] tunedRouter = tuned.stored(ParameterNames.router(1)).data();
        float[] kept = without.stored(ParameterNames.router(1)).data();
        assertThat(kept).isEqualTo(java.util.Arrays.copyOf(tunedRouter, 2 * d));
        // The untuned composition without code has other router rows: no exactness is claimed for the tuned model.
        ComposedModel direct = Composer.compose(publicModel, List.of(ArtifactTesting.expert(publicModel, "math", 2)),
                2);
        assertThat(direct.routerTuned()).isFalse();
        assertThat(kept).isNotEqualTo(direct.stored(ParameterNames.router(1)).data());
    }

    @Test
    void aModelWithAnotherChangedTensorIsRefused() {
        Parameters p = composed.parameters();
        Tensor down = p.expert(0, 1).down();
        down.data()[3] += 1f;
        ObjectNode rec = new ObjectMapper().createObjectNode().put("steps", 1);
        assertThatThrownBy(() -> composed.withTunedRouter(p, rec))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ParameterNames.ffn(0, 1, false, "down"))
                .hasMessageContaining("only the router");
        assertThatThrownBy(() -> RouterTuning.markTrainable(publicModel.parameters()))
                .hasMessageContaining("dense");
    }

    @Test
    void onlyComposedModelsCarryARouterTuningRecordAndItMustBeAnObject() {
        ObjectNode rec = new ObjectMapper().createObjectNode().put("steps", 1);
        ArtifactMetadata pub = publicModel.metadata();
        assertThatThrownBy(() -> new ArtifactMetadata(pub.kind(), pub.config(), pub.tokenizer(), null, pub.parts(),
                rec)).hasMessageContaining("only a composed model can be router-tuned");
        String json = composed.metadata().withRouterTuning(rec).toJsonString("0".repeat(64));
        assertThat(ArtifactMetadata.parse(json, "x").metadata().routerTuning()).isEqualTo(rec);
        String bad = json.replace("\"routerTuning\":{\"steps\":1}", "\"routerTuning\":3");
        assertThat(bad).isNotEqualTo(json);
        assertThatThrownBy(() -> ArtifactMetadata.parse(bad, "x"))
                .isInstanceOf(ArtifactFormatException.class)
                .hasMessageContaining("field routerTuning: expected null or an object");
        String untuned = composed.metadata().toJsonString("0".repeat(64));
        assertThat(untuned).doesNotContain("routerTuning");
        assertThat(ArtifactMetadata.parse(untuned, "x").metadata().routerTuned()).isFalse();
    }
}
