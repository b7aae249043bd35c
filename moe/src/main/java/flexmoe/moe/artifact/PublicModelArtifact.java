package flexmoe.moe.artifact;

import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The public model file: the dense OLMo-2 model under Hugging Face names ({@link Parameters#huggingFaceTensors()}:
 * {@code model.embed_tokens.weight}, {@code model.layers.{i}.self_attn.q_proj.weight}, ...,
 * {@code model.layers.{i}.mlp.gate_proj.weight}, {@code up_proj}, {@code down_proj}, {@code lm_head.weight}) and, once
 * prepared, the public router embedding r_pub: {@code model.layers.{i}.mlp.gate.weight} of shape [1, D] in every
 * layer. That is row 0 of the router matrix of every model built on this public model: the frozen row that each
 * expert's router row competes with. It belongs to the public model, not to an expert, because it must be the same
 * for all experts trained against it; adding it makes a new public model (a new fingerprint), so prepare it before
 * any expert is trained. The metadata kind is {@code public}, its config dense.
 */
public final class PublicModelArtifact extends Artifact {

    private PublicModelArtifact(ArtifactMetadata metadata, List<NamedTensor> tensors) {
        super(metadata, tensors, null, null);
        validate();
    }

    PublicModelArtifact(Loaded loaded) {
        super(loaded.requireKind(ArtifactKind.PUBLIC).metadata(), loaded.tensors(), loaded.file(),
                loaded.fingerprint());
        validate();
    }

    /**
     * The public model artifact of a dense model (without a router embedding; see {@link #withRouterEmbedding}).
     *
     * @param publicModel the dense model (its values are copied)
     * @param self        its domain (the public mix's name, usually {@code public}), tokens seen, seed, privacy
     * @param tokenizer   the tokenizer it was trained with
     */
    public static PublicModelArtifact create(Parameters publicModel, ArtifactPart self, TokenizerFingerprint tokenizer) {
        if (!publicModel.config().isDense()) {
            throw new IllegalArgumentException("public model: must be dense (experts 1), got "
                    + publicModel.config().experts() + " experts");
        }
        ArtifactMetadata metadata = new ArtifactMetadata(ArtifactKind.PUBLIC, publicModel.config(), tokenizer, null,
                List.of(self));
        return new PublicModelArtifact(metadata, publicModel.huggingFaceTensors());
    }

    /** Loads a public model file; see {@link Artifact#load} for what is checked. */
    public static PublicModelArtifact load(Path file) {
        return new PublicModelArtifact(Loaded.read(file));
    }

    /** The same model with r_pub = {@code routerEmbedding} in every layer (as FlexOlmo seeds every layer). */
    public PublicModelArtifact withRouterEmbedding(float[] routerEmbedding) {
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < config().layers(); i++) {
            rows.add(routerEmbedding);
        }
        return withRouterEmbedding(rows);
    }

    /** The same model with r_pub of layer i = {@code perLayer.get(i)} (replacing any it had). */
    public PublicModelArtifact withRouterEmbedding(List<float[]> perLayer) {
        int d = config().dim();
        if (perLayer.size() != config().layers()) {
            throw new IllegalArgumentException("public router embedding: " + perLayer.size() + " rows for "
                    + config().layers() + " layers");
        }
        List<NamedTensor> list = new ArrayList<>();
        for (NamedTensor t : tensors()) {
            if (!isRouterName(t.name())) {
                list.add(t);
            }
        }
        for (int i = 0; i < perLayer.size(); i++) {
            float[] row = perLayer.get(i);
            if (row.length != d) {
                throw new IllegalArgumentException("public router embedding: layer " + i + " has width " + row.length
                        + ", the model's is " + d);
            }
            list.add(new NamedTensor(ParameterNames.router(i), new int[] {1, d}, row.clone()));
        }
        return new PublicModelArtifact(metadata(), list);
    }

    /** True once the public router embedding has been added. */
    public boolean hasRouterEmbedding() {
        return has(ParameterNames.router(0));
    }

    /** r_pub of a layer [D] (a copy). */
    public float[] routerEmbedding(int layer) {
        if (!hasRouterEmbedding()) {
            throw new IllegalStateException(describe() + ": the public model has no router embedding yet");
        }
        return values(ParameterNames.router(layer));
    }

    /** The dense model (a fresh copy; all tensors frozen). */
    public Parameters parameters() {
        return Parameters.fromHuggingFace(config(), denseTensors());
    }

    /** The public model's own record: domain, tokens seen, seed, privacy. */
    public ArtifactPart part() {
        return metadata().parts().getFirst();
    }

    public String domain() {
        return metadata().domain();
    }

    /** The dense model's stored tensors (not copies), without the router embedding. */
    List<NamedTensor> denseTensors() {
        List<NamedTensor> list = new ArrayList<>();
        for (String name : names()) {
            if (!isRouterName(name)) {
                list.add(stored(name));
            }
        }
        return list;
    }

    private boolean isRouterName(String name) {
        for (int i = 0; i < config().layers(); i++) {
            if (name.equals(ParameterNames.router(i))) {
                return true;
            }
        }
        return false;
    }

    private void validate() {
        int layers = config().layers(), d = config().dim();
        int withRouter = 0;
        for (int i = 0; i < layers; i++) {
            if (has(ParameterNames.router(i))) {
                expectShape(ParameterNames.router(i), 1, d);
                withRouter++;
            }
        }
        if (withRouter != 0 && withRouter != layers) {
            throw invalid("the public router embedding (model.layers.{i}.mlp.gate.weight) is in " + withRouter
                    + " of " + layers + " layers; it must be in all or none");
        }
        try {
            Parameters.fromHuggingFace(config(), denseTensors());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage().replace("fromHuggingFace: ", ""));
        }
    }
}
