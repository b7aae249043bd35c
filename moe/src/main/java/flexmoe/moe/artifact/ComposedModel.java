package flexmoe.moe.artifact;

import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A public model composed with experts ({@link Composer#compose}): one MoE model whose expert 0 is the public FFN and
 * whose experts 1..n are the experts in the order they were given, with the router rows [r_pub, r_1, ..., r_n] and
 * the biases [0, b_1, ..., b_n] stacked in every layer, and {@code config.topK} experts active per token. The file
 * holds exactly {@link Parameters#huggingFaceTensors()} of that model ({@code model.layers.{i}.mlp.gate.weight}
 * [1 + n, D], {@code model.layers.{i}.mlp.gate.expert_bias} [1 + n], {@code model.layers.{i}.mlp.experts.{e}.*}); with
 * no experts it is the dense public model under OLMo-2's names. The metadata lists the parts: their names (domains),
 * fingerprints, tokens seen, seeds and privacy guarantees.
 *
 * <p>Experts are opted in and out by name ({@link #optOut}, {@link #keepOnly}): the result has exactly the tensors,
 * metadata and bytes of the model composed without them, so its outputs are bit-identical to that model's. The
 * remaining experts keep their order (the router's softmax sums in expert order, so the order is part of the bits).
 * The public model (part 0) cannot be opted out.
 *
 * <p>A router-tuned model ({@link #withTunedRouter}, FlexOlmo's optional stage after the merge) has router rows and
 * biases trained on proxy data with every expert present; its metadata says so ({@link ArtifactMetadata#routerTuning}).
 * Opting an expert out of it still drops that expert's FFN, row and bias, and the result stays marked as tuned, but it
 * is not the model composed without the expert: the tuned rows of the others were fitted with it present. The exact
 * opt-out guarantee holds only for the untuned composition.
 */
public final class ComposedModel extends Artifact {

    ComposedModel(ArtifactMetadata metadata, List<NamedTensor> tensors) {
        super(metadata, tensors, null, null);
        validate();
    }

    ComposedModel(Loaded loaded) {
        super(loaded.requireKind(ArtifactKind.COMPOSED).metadata(), loaded.tensors(), loaded.file(),
                loaded.fingerprint());
        validate();
    }

    /**
     * Loads a model to run: a composed model file, or a public model file (the composed model with no experts). An
     * expert file alone is refused: compose it with its public model first.
     */
    public static ComposedModel load(Path file) {
        Loaded loaded = Loaded.read(file);
        return switch (loaded.metadata().kind()) {
            case COMPOSED -> new ComposedModel(loaded);
            case PUBLIC -> Composer.compose(new PublicModelArtifact(loaded), List.of(), 1);
            case EXPERT -> throw new ArtifactFormatException(file + ": is an expert file; compose it with its public"
                    + " model first (flexmoe compose --public PUBLIC --experts " + file + " --out MODEL)");
        };
    }

    /** The expert names (the parts' domains) in expert order: index 0 is the public model. */
    public List<String> expertNames() {
        return metadata().partNames();
    }

    /** Number of experts including the public one. */
    public int experts() {
        return config().experts();
    }

    /** Active experts per token. */
    public int topK() {
        return config().topK();
    }

    /** The model (a fresh copy; all tensors frozen). */
    public Parameters parameters() {
        return Parameters.fromHuggingFace(config(), storedTensors());
    }

    /**
     * The model without the named experts: their FFNs, router rows and biases are dropped and the others renumbered
     * in order. Top-k stays, or becomes the number of remaining experts if it exceeds it.
     */
    public ComposedModel optOut(Collection<String> names) {
        return select(null, names, null);
    }

    /** The model with only the named experts (and the public model), in their composed order; top-k as in optOut. */
    public ComposedModel keepOnly(Collection<String> names) {
        return select(names, List.of(), null);
    }

    /** The same experts with another top-k, in [1, experts]. */
    public ComposedModel withTopK(int topK) {
        return select(null, List.of(), topK);
    }

    /**
     * The inference-time selection: {@code include} (null = all) then {@code exclude}; {@code topK} null keeps the
     * current one, capped at the number of experts left. Names are domains; an unknown one is an error that lists the
     * known ones; the public model cannot be excluded (naming it in {@code include} is allowed and changes nothing).
     */
    public ComposedModel select(Collection<String> include, Collection<String> exclude, Integer topK) {
        List<String> known = expertNames();
        String publicName = known.getFirst();
        Set<String> keep = new LinkedHashSet<>();
        if (include == null) {
            keep.addAll(known);
        } else {
            keep.add(publicName);
            for (String name : include) {
                requireKnown(name, known);
                keep.add(name);
            }
        }
        for (String name : exclude) {
            requireKnown(name, known);
            if (name.equals(publicName)) {
                throw new IllegalArgumentException("expert '" + name + "' is the public model, which every composed"
                        + " model keeps as expert 0; it cannot be excluded");
            }
            keep.remove(name);
        }
        List<Integer> indices = new ArrayList<>();
        for (int e = 0; e < known.size(); e++) {
            if (keep.contains(known.get(e))) {
                indices.add(e);
            }
        }
        int k = topK != null ? topK : Math.min(topK(), indices.size());
        if (k < 1 || k > indices.size()) {
            throw new IllegalArgumentException("top-k must be in [1, " + indices.size() + "] (the experts present: "
                    + String.join(", ", keep) + "), got " + k);
        }
        return subset(indices.stream().mapToInt(Integer::intValue).toArray(), k);
    }

    private static void requireKnown(String name, List<String> known) {
        if (!known.contains(name)) {
            throw new IllegalArgumentException("unknown expert '" + name + "' (known: " + String.join(", ", known)
                    + ")");
        }
    }

    /** The experts {@code keep} (indices, ascending, starting with 0) renumbered 0..m-1, top-k {@code topK}. */
    private ComposedModel subset(int[] keep, int topK) {
        ModelConfig c = config();
        int d = c.dim(), m = keep.length;
        boolean denseIn = c.isDense(), denseOut = m == 1;
        List<NamedTensor> list = new ArrayList<>();
        Set<String> moe = new LinkedHashSet<>();
        for (int i = 0; i < c.layers(); i++) {
            moe.addAll(moeNames(i, c));
        }
        for (String name : names()) {
            if (!moe.contains(name)) {
                list.add(copy(stored(name), name));
            }
        }
        for (int i = 0; i < c.layers(); i++) {
            for (int j = 0; j < m; j++) {
                for (String proj : List.of("gate", "up", "down")) {
                    list.add(copy(stored(ParameterNames.ffn(i, keep[j], denseIn, proj)),
                            ParameterNames.ffn(i, j, denseOut, proj)));
                }
            }
            if (!denseOut) {
                float[] router = stored(ParameterNames.router(i)).data();
                float[] bias = stored(ParameterNames.expertBias(i)).data();
                float[] r = new float[m * d];
                float[] b = new float[m];
                for (int j = 0; j < m; j++) {
                    System.arraycopy(router, keep[j] * d, r, j * d, d);
                    b[j] = bias[keep[j]];
                }
                list.add(new NamedTensor(ParameterNames.router(i), new int[] {m, d}, r));
                list.add(new NamedTensor(ParameterNames.expertBias(i), new int[] {m}, b));
            }
        }
        List<ArtifactPart> parts = new ArrayList<>();
        for (int e : keep) {
            parts.add(metadata().parts().get(e));
        }
        ArtifactMetadata meta = new ArtifactMetadata(ArtifactKind.COMPOSED, c.withExperts(m, topK), tokenizer(),
                metadata().publicModel(), parts, metadata().routerTuning());
        return new ComposedModel(meta, list);
    }

    /** True when the router was tuned after the merge (then opt-out is mechanical, not exact). */
    public boolean routerTuned() {
        return metadata().routerTuned();
    }

    /**
     * This model with the router rows and expert biases of {@code tuned} (the same model after router tuning) and the
     * tuning {@code record} in its metadata. Every other tensor of {@code tuned} must be bit-identical to this
     * model's: router tuning changes nothing else, and a model that differs elsewhere is not this one tuned.
     */
    public ComposedModel withTunedRouter(Parameters tuned, com.fasterxml.jackson.databind.node.ObjectNode record) {
        if (record == null) {
            throw new IllegalArgumentException("router tuning: a record of what the router was tuned on is required");
        }
        if (config().isDense()) {
            throw new IllegalArgumentException("router tuning: " + describe() + " has no experts, so no router");
        }
        if (!tuned.config().equals(config())) {
            throw new IllegalArgumentException("router tuning: the tuned model's config differs from " + describe());
        }
        Set<String> router = new LinkedHashSet<>();
        for (int i = 0; i < config().layers(); i++) {
            router.add(ParameterNames.router(i));
            router.add(ParameterNames.expertBias(i));
        }
        List<NamedTensor> list = new ArrayList<>();
        for (NamedTensor t : tuned.huggingFaceTensors()) {
            NamedTensor mine = stored(t.name());
            if (!router.contains(t.name()) && !java.util.Arrays.equals(t.data(), mine.data())) {
                throw new IllegalArgumentException("router tuning: tensor " + t.name() + " changed; only the router"
                        + " rows and expert biases may");
            }
            list.add(router.contains(t.name()) ? copy(t, t.name()) : copy(mine, t.name()));
        }
        return new ComposedModel(metadata().withRouterTuning(record), list);
    }

    /** The names of a layer's per-expert tensors: FFNs, and the router and bias of an MoE model. */
    private static List<String> moeNames(int layer, ModelConfig c) {
        List<String> names = new ArrayList<>();
        for (int e = 0; e < c.experts(); e++) {
            for (String proj : List.of("gate", "up", "down")) {
                names.add(ParameterNames.ffn(layer, e, c.isDense(), proj));
            }
        }
        if (!c.isDense()) {
            names.add(ParameterNames.router(layer));
            names.add(ParameterNames.expertBias(layer));
        }
        return names;
    }

    private static NamedTensor copy(NamedTensor t, String name) {
        return new NamedTensor(name, t.shape(), t.data().clone());
    }

    private void validate() {
        try {
            Parameters.fromHuggingFace(config(), storedTensors());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage().replace("fromHuggingFace: ", ""));
        }
        if (metadata().parts().size() != config().experts()) {
            throw invalid("the metadata lists " + metadata().parts().size() + " parts for " + config().experts()
                    + " experts");
        }
    }

    private List<NamedTensor> storedTensors() {
        List<NamedTensor> list = new ArrayList<>();
        for (String name : names()) {
            list.add(stored(name));
        }
        return list;
    }

    @Override
    public String describe() {
        return "composed model " + String.join("+", expertNames()) + (routerTuned() ? ", router-tuned" : "")
                + (source() == null ? "" : " (" + source() + ")");
    }
}
