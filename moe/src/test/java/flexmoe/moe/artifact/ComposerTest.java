package flexmoe.moe.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.TokenBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compose, opt-in and opt-out: the deterministic opt-out guarantee (a model with an expert excluded gives the bits of
 * the model composed without it), the dense special case, what the merge stacks, and every refusal.
 */
class ComposerTest {

    private static Backend backend;
    private static PublicModelArtifact pub;
    private static ExpertArtifact math;
    private static ExpertArtifact code;
    private static ExpertArtifact news;
    private static TokenBatch batch;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
        pub = ArtifactTesting.publicModel(1);
        math = ArtifactTesting.expert(pub, "math", 11);
        code = ArtifactTesting.expert(pub, "code", 12);
        news = ArtifactTesting.expert(pub, "news", 13);
        batch = ArtifactTesting.randomBatch(pub.config(), 3, 16, 5);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static float[] logits(ComposedModel m) {
        return ArtifactTesting.logits(m.parameters(), backend, batch);
    }

    @Test
    void optOutGivesTheBitsOfTheModelComposedWithoutTheExpert() {
        ComposedModel withCode = Composer.compose(pub, List.of(math, code), 2);
        ComposedModel optedOut = withCode.optOut(List.of("code"));
        ComposedModel without = Composer.compose(pub, List.of(math), 2);

        assertThat(optedOut.expertNames()).containsExactly("public", "math");
        assertThat(optedOut.metadata()).isEqualTo(without.metadata());
        assertThat(optedOut.fingerprint()).isEqualTo(without.fingerprint());
        assertThat(ArtifactTesting.sameBits(logits(optedOut), logits(without))).isTrue();
        // and the expert had an influence before it was removed
        assertThat(ArtifactTesting.sameBits(logits(withCode), logits(without))).isFalse();
    }

    @Test
    void optOutFromTheMiddleRenumbersTheRest() {
        ComposedModel all = Composer.compose(pub, List.of(math, code, news), 3);
        ComposedModel optedOut = all.optOut(List.of("code"));
        ComposedModel without = Composer.compose(pub, List.of(math, news), 3);

        assertThat(optedOut.fingerprint()).isEqualTo(without.fingerprint());
        assertThat(ArtifactTesting.sameBits(logits(optedOut), logits(without))).isTrue();
        // top-k 3 of 4 stays 3; removing two more caps it at the 2 experts left
        ComposedModel one = all.optOut(List.of("code", "math"));
        assertThat(one.topK()).isEqualTo(2);
        assertThat(one.fingerprint()).isEqualTo(Composer.compose(pub, List.of(news), 2).fingerprint());
    }

    @Test
    void optOutOfAComposedFileIsBitIdenticalToo() {
        Path f = dir.resolve("composed.safetensors");
        ArtifactFingerprint saved = Composer.compose(pub, List.of(math, code), 2).save(f);
        ComposedModel loaded = ComposedModel.load(f);

        assertThat(loaded.fingerprint()).isEqualTo(saved);
        assertThat(loaded.source()).isEqualTo(f);
        ComposedModel without = Composer.compose(pub, List.of(math), 2);
        assertThat(ArtifactTesting.sameBits(logits(loaded.optOut(List.of("code"))), logits(without))).isTrue();
        assertThat(loaded.optOut(List.of("code")).fingerprint()).isEqualTo(without.fingerprint());
    }

    @Test
    void composingNoExpertsGivesTheDensePublicModel() {
        ComposedModel dense = Composer.compose(pub, List.of(), 1);

        assertThat(dense.config()).isEqualTo(pub.config());
        assertThat(dense.expertNames()).containsExactly("public");
        Parameters p = dense.parameters();
        assertThat(p.config().isDense()).isTrue();
        assertThat(ArtifactTesting.sameBits(logits(dense), ArtifactTesting.logits(pub.parameters(), backend, batch)))
                .isTrue();
        // opting every expert out gives the same model
        ComposedModel none = Composer.compose(pub, List.of(math, code), 2).optOut(List.of("math", "code"));
        assertThat(none.fingerprint()).isEqualTo(dense.fingerprint());
        assertThat(ArtifactTesting.sameBits(logits(none), logits(dense))).isTrue();
    }

    /** Composing an expert alone with top-2 is the model it was trained in, bit for bit. */
    @Test
    void composingOneExpertReproducesItsTrainingModel() {
        Parameters training = ArtifactTesting.trainingModel(pub, 11);
        ComposedModel composed = Composer.compose(pub, List.of(math), 2);

        assertThat(ArtifactTesting.sameBits(logits(composed), ArtifactTesting.logits(training, backend, batch)))
                .isTrue();
    }

    @Test
    void theMergeStacksRouterRowsBiasesAndFfns() {
        ComposedModel m = Composer.compose(pub, List.of(code, math), 2);
        Parameters p = m.parameters();
        Parameters dense = pub.parameters();
        List<ExpertArtifact> experts = List.of(code, math);

        assertThat(m.expertNames()).containsExactly("public", "code", "math");
        assertThat(m.config()).isEqualTo(pub.config().withExperts(3, 2));
        for (int l = 0; l < pub.config().layers(); l++) {
            assertThat(p.expert(l, 0).routerRow().data()).containsExactly(pub.routerEmbedding(l));
            assertThat(p.expert(l, 0).bias()).isNull();
            assertThat(p.expert(l, 0).gateUp().data()).containsExactly(dense.expert(l, 0).gateUp().data());
            for (int e = 1; e <= 2; e++) {
                ExpertArtifact x = experts.get(e - 1);
                assertThat(p.expert(l, e).routerRow().data()).containsExactly(x.routerRow(l));
                assertThat(p.expert(l, e).bias().data()).containsExactly(x.bias(l));
                assertThat(p.expert(l, e).down().data()).containsExactly(x.ffn(l, "down").data());
            }
        }
        assertThat(m.metadata().parts()).extracting(ArtifactPart::fingerprint)
                .containsExactly(pub.fingerprint(), code.fingerprint(), math.fingerprint());
        assertThat(m.metadata().parts().get(1).tokensSeen()).isEqualTo(code.part().tokensSeen());
        assertThat(m.metadata().publicModel()).isEqualTo(pub.fingerprint());
    }

    @Test
    void selectionByNameKeepsTheComposedOrder() {
        ComposedModel all = Composer.compose(pub, List.of(math, code, news), 2);

        ComposedModel kept = all.keepOnly(List.of("news", "math"));
        assertThat(kept.expertNames()).containsExactly("public", "math", "news");
        assertThat(kept.fingerprint()).isEqualTo(Composer.compose(pub, List.of(math, news), 2).fingerprint());
        assertThat(all.keepOnly(List.of("public")).config().isDense()).isTrue();
        assertThat(all.withTopK(4).topK()).isEqualTo(4);
        assertThat(all.select(List.of("math", "code"), List.of("code"), 1).expertNames())
                .containsExactly("public", "math");

        assertThatThrownBy(() -> all.optOut(List.of("poetry")))
                .hasMessage("unknown expert 'poetry' (known: public, math, code, news)");
        assertThatThrownBy(() -> all.keepOnly(List.of("poetry")))
                .hasMessage("unknown expert 'poetry' (known: public, math, code, news)");
        assertThatThrownBy(() -> all.optOut(List.of("public"))).hasMessageContaining("cannot be excluded");
        assertThatThrownBy(() -> all.withTopK(5))
                .hasMessage("top-k must be in [1, 4] (the experts present: public, math, code, news), got 5");
        assertThatThrownBy(() -> all.withTopK(0)).hasMessageContaining("got 0");
    }

    @Test
    void aPublicFileLoadsAsTheDenseModelAndAnExpertFileDoesNot() {
        Path p = dir.resolve("public.safetensors");
        Path e = dir.resolve("math.safetensors");
        pub.save(p);
        math.save(e);

        ComposedModel dense = ComposedModel.load(p);
        assertThat(dense.config().isDense()).isTrue();
        assertThat(dense.metadata().publicModel()).isEqualTo(pub.fingerprint());
        assertThatThrownBy(() -> ComposedModel.load(e)).hasMessage(e + ": is an expert file; compose it with its"
                + " public model first (flexmoe compose --public PUBLIC --experts " + e + " --out MODEL)");
    }

    // ---- refusals -------------------------------------------------------------------------------------------------

    @Test
    void anExpertOfAnotherPublicModelIsRefused() {
        Path p = dir.resolve("public.safetensors");
        Path other = dir.resolve("other-public.safetensors");
        Path e = dir.resolve("math.safetensors");
        pub.save(p);
        PublicModelArtifact otherPublic = ArtifactTesting.publicModel(2);
        otherPublic.save(other);
        ArtifactTesting.expert(PublicModelArtifact.load(other), "math", 11).save(e);

        assertThatThrownBy(() -> Composer.compose(PublicModelArtifact.load(p), List.of(ExpertArtifact.load(e)), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expert math (" + e + ") was trained against public model "
                        + otherPublic.fingerprint().shortForm() + ", not " + pub.fingerprint().shortForm()
                        + " (public (" + p + ")): refusing to compose them");
    }

    @Test
    void anExpertWithAnotherTokenizerIsRefused() {
        TokenizerFingerprint other = TokenizerFingerprint.ofBytes("other".getBytes(StandardCharsets.UTF_8));
        Path e = edited(math, o -> o.put("tokenizerSha256", other.sha256()), math.tensors());

        assertThatThrownBy(() -> Composer.compose(pub, List.of(ExpertArtifact.load(e)), 2))
                .hasMessage("expert math (" + e + ") uses tokenizer " + other.shortForm() + ", public model public"
                        + " uses " + pub.tokenizer().shortForm() + ": refusing to compose them");
    }

    @Test
    void anInconsistentExpertIsRefused() {
        Path shape = edited(math, o -> ((ObjectNode) o.get("config")).put("maxSeqLen", 32), math.tensors());
        assertThatThrownBy(() -> Composer.compose(pub, List.of(ExpertArtifact.load(shape)), 2))
                .hasMessage("expert math (" + shape + ") has another shape than public model public: maxSeqLen 16 vs"
                        + " 32");

        List<NamedTensor> tensors = new ArrayList<>(math.tensors());
        tensors.replaceAll(t -> {
            if (!t.name().equals(ParameterNames.router(1))) {
                return t;
            }
            float[] a = t.data().clone();
            a[0] += 1;
            return new NamedTensor(t.name(), t.shape(), a);
        });
        Path router = edited(math, o -> { }, tensors);
        assertThatThrownBy(() -> Composer.compose(pub, List.of(ExpertArtifact.load(router)), 2))
                .hasMessageContaining("its router row 0 in layer 1 differs from the router embedding of public model"
                        + " public, although its recorded fingerprint matches");
    }

    @Test
    void namesMustBeUniqueAndTopKInRange() {
        ExpertArtifact math2 = ArtifactTesting.expert(pub, "math", 99);
        assertThatThrownBy(() -> Composer.compose(pub, List.of(math, code, math2), 2))
                .hasMessage("expert name 'math' appears twice: math and math (names are the experts' domains and must"
                        + " be unique)");
        ExpertArtifact named = ArtifactTesting.expert(pub, "public", 98);
        assertThatThrownBy(() -> Composer.compose(pub, List.of(named), 2))
                .hasMessage("expert public has the public model's name 'public'; expert names must differ from it");
        assertThatThrownBy(() -> Composer.compose(pub, List.of(math, code), 4))
                .hasMessage("top-k must be in [1, 3] for the public model and 2 experts, got 4");
        assertThatThrownBy(() -> Composer.compose(pub, List.of(), 2))
                .hasMessage("top-k must be in [1, 1] for the public model and 0 experts, got 2");
        PublicModelArtifact bare = PublicModelArtifact.create(pub.parameters(), pub.part(), pub.tokenizer());
        assertThatThrownBy(() -> Composer.compose(bare, List.of(math), 2))
                .hasMessageContaining("has no router embedding");
    }

    /** An expert file with edited metadata (and a data checksum matching {@code tensors}). */
    private Path edited(ExpertArtifact e, Consumer<ObjectNode> edit, List<NamedTensor> tensors) {
        ObjectNode json = e.metadata().toJson(SafeTensors.dataSha256(tensors));
        edit.accept(json);
        Path f = dir.resolve("edited-" + System.nanoTime() + ".safetensors");
        SafeTensors.write(f, tensors, Map.of("format", "pt", "flexmoe", json.toString()));
        return f;
    }

    @Test
    void routerRowsAreCopiesNotShared() {
        ComposedModel m = Composer.compose(pub, List.of(math), 2);
        Parameters a = m.parameters();
        a.expert(0, 1).routerRow().data()[0] += 1;
        assertThat(Arrays.equals(m.parameters().expert(0, 1).routerRow().data(), math.routerRow(0))).isTrue();
    }
}
