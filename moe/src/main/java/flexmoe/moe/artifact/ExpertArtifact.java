package flexmoe.moe.artifact;

import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One expert's file: exactly the tensors of its 2-expert training model (FlexOlmo's coordinated training: [frozen
 * public FFN, trained copy], top-2) that are not the public model's, under the training model's Hugging Face names.
 * Per layer i:
 * <pre>
 *   model.layers.{i}.mlp.gate.weight                  [2, D]  router rows: 0 = r_pub (the public model's, frozen),
 *                                                             1 = r_i, this expert's router embedding
 *   model.layers.{i}.mlp.gate.expert_bias             [2]     [0, b_i]; applied as min(b_i, 0)
 *   model.layers.{i}.mlp.experts.1.gate_proj.weight   [F, D]  the expert's SwiGLU FFN
 *   model.layers.{i}.mlp.experts.1.up_proj.weight     [F, D]
 *   model.layers.{i}.mlp.experts.1.down_proj.weight   [D, F]
 * </pre>
 * The expert is stored as index 1, its index in training; composing renumbers it to its place in the composed model.
 * Row 0 of the router is kept, although the public model holds it too, so that the file plus the public model is the
 * training model, and so that composing can check bit for bit that the expert saw this r_pub. The metadata kind is
 * {@code expert}; its config is the training config (2 experts), and {@code publicModelSha256} names the public
 * model file it was trained against.
 */
public final class ExpertArtifact extends Artifact {

    private ExpertArtifact(ArtifactMetadata metadata, List<NamedTensor> tensors) {
        super(metadata, tensors, null, null);
        validate();
    }

    ExpertArtifact(Loaded loaded) {
        super(loaded.requireKind(ArtifactKind.EXPERT).metadata(), loaded.tensors(), loaded.file(),
                loaded.fingerprint());
        validate();
    }

    /**
     * Extracts expert 1 of a trained 2-expert model. Refused unless everything else in {@code trained} is bit for
     * bit the public model's (the shared tensors, the public FFN as expert 0, r_pub as router row 0): coordinated
     * training must leave them untouched, and an expert that changed them would not compose with other experts.
     *
     * @param trained     the 2-expert training model (values are copied)
     * @param publicModel the public model it was trained against (with its router embedding)
     * @param self        the expert's domain, training tokens, seed and privacy guarantee
     */
    public static ExpertArtifact fromTrainingModel(Parameters trained, PublicModelArtifact publicModel,
                                                   ArtifactPart self) {
        ModelConfig c = trained.config();
        if (c.experts() != 2) {
            throw new IllegalArgumentException("expert " + self.domain() + ": the training model must have 2 experts"
                    + " [public, expert], got " + c.experts());
        }
        String diff = architectureDifference(publicModel.config(), c);
        if (diff != null) {
            throw new IllegalArgumentException("expert " + self.domain() + ": the training model's shape differs"
                    + " from public model " + publicModel.describe() + ": " + diff);
        }
        if (!publicModel.hasRouterEmbedding()) {
            throw new IllegalArgumentException("expert " + self.domain() + ": public model " + publicModel.describe()
                    + " has no router embedding; an expert is trained against a public model that has one");
        }
        Map<String, NamedTensor> byName = new LinkedHashMap<>();
        for (NamedTensor t : trained.huggingFaceTensors()) {
            byName.put(t.name(), t);
        }
        int d = c.dim();
        for (NamedTensor p : publicModel.denseTensors()) {
            String name = p.name();
            for (int i = 0; i < c.layers(); i++) {
                for (String proj : List.of("gate", "up", "down")) {
                    if (name.equals(ParameterNames.ffn(i, 0, true, proj))) {
                        name = ParameterNames.ffn(i, 0, false, proj);
                    }
                }
            }
            NamedTensor t = byName.get(name);
            if (t == null || !Arrays.equals(t.data(), p.data())) {
                throw new IllegalArgumentException("expert " + self.domain() + ": tensor " + name + " of the training"
                        + " model differs from the public model's " + p.name() + " (coordinated training must leave"
                        + " everything but the expert's FFN, router row and bias bit-identical)");
            }
        }
        List<NamedTensor> own = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            NamedTensor router = byName.get(ParameterNames.router(i));
            if (!Arrays.equals(Arrays.copyOf(router.data(), d), publicModel.routerEmbedding(i))) {
                throw new IllegalArgumentException("expert " + self.domain() + ": router row 0 of layer " + i + " of"
                        + " the training model differs from the public router embedding of " + publicModel.describe());
            }
            own.add(router);
            own.add(byName.get(ParameterNames.expertBias(i)));
            for (String proj : List.of("gate", "up", "down")) {
                own.add(byName.get(ParameterNames.ffn(i, 1, false, proj)));
            }
        }
        ArtifactMetadata metadata = new ArtifactMetadata(ArtifactKind.EXPERT, c, publicModel.tokenizer(),
                publicModel.fingerprint(), List.of(self));
        return new ExpertArtifact(metadata, own);
    }

    /** Loads an expert file; see {@link Artifact#load} for what is checked. */
    public static ExpertArtifact load(Path file) {
        return new ExpertArtifact(Loaded.read(file));
    }

    public String domain() {
        return metadata().domain();
    }

    /** The expert's own record: domain, tokens seen, seed, privacy. */
    public ArtifactPart part() {
        return metadata().parts().getFirst();
    }

    /** Fingerprint of the public model file it was trained against. */
    public ArtifactFingerprint publicModel() {
        return metadata().publicModel();
    }

    /** Its router embedding r_i in a layer [D] (a copy). */
    public float[] routerRow(int layer) {
        float[] router = stored(ParameterNames.router(layer)).data();
        return Arrays.copyOfRange(router, config().dim(), 2 * config().dim());
    }

    /** The public router row r_pub it was trained with, in a layer [D] (a copy). */
    public float[] publicRouterRow(int layer) {
        return Arrays.copyOf(stored(ParameterNames.router(layer)).data(), config().dim());
    }

    /** Its bias b_i in a layer (stored as is; the router applies min(b_i, 0)). */
    public float bias(int layer) {
        return stored(ParameterNames.expertBias(layer)).data()[1];
    }

    /** Its FFN projection ({@code "gate"}, {@code "up"} or {@code "down"}) in a layer (stored, not a copy). */
    NamedTensor ffn(int layer, String proj) {
        return stored(ParameterNames.ffn(layer, 1, false, proj));
    }

    private void validate() {
        ModelConfig c = config();
        int d = c.dim(), f = c.ffnHidden();
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < c.layers(); i++) {
            expectShape(ParameterNames.router(i), 2, d);
            expectShape(ParameterNames.expertBias(i), 2);
            expectShape(ParameterNames.ffn(i, 1, false, "gate"), f, d);
            expectShape(ParameterNames.ffn(i, 1, false, "up"), f, d);
            expectShape(ParameterNames.ffn(i, 1, false, "down"), d, f);
            if (stored(ParameterNames.expertBias(i)).data()[0] != 0f) {
                throw invalid("tensor " + ParameterNames.expertBias(i) + "[0] must be 0 (the public expert has no"
                        + " bias), got " + stored(ParameterNames.expertBias(i)).data()[0]);
            }
            expected.addAll(List.of(ParameterNames.router(i), ParameterNames.expertBias(i),
                    ParameterNames.ffn(i, 1, false, "gate"), ParameterNames.ffn(i, 1, false, "up"),
                    ParameterNames.ffn(i, 1, false, "down")));
        }
        noOtherTensors(expected, "an expert file (it holds only the expert's FFN, router rows and bias)");
    }
}
