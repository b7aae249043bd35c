package flexmoe.moe.artifact;

import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.ParameterNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FlexOlmo's merge: a public model and any list of experts stacked into one MoE model, with no training. Expert 0 is
 * the public FFN, experts 1..n are the given experts in the given order (named by their domains); each layer's router
 * is [r_pub, r_1, ..., r_n] and its biases [0, b_1, ..., b_n] (the biases are carried over, as the method describes;
 * the reference merge script drops them, see reference/FLEXOLMO.md).
 *
 * <p>An expert is refused unless it was trained against exactly this public model (its recorded fingerprint equals
 * the public file's), with the same tokenizer and architecture, and with this public model's router embedding as its
 * router row 0 (bit for bit). Names must be unique and differ from the public model's.
 */
public final class Composer {

    private Composer() {
    }

    /**
     * Composes {@code publicModel} with {@code experts}, {@code topK} experts active per token (1..n+1).
     * With no experts the result is the dense public model (top-k 1).
     */
    public static ComposedModel compose(PublicModelArtifact publicModel, List<ExpertArtifact> experts, int topK) {
        int n = experts.size();
        if (topK < 1 || topK > n + 1) {
            throw new IllegalArgumentException("top-k must be in [1, " + (n + 1) + "] for the public model and " + n
                    + " expert" + (n == 1 ? "" : "s") + ", got " + topK);
        }
        if (n > 0 && !publicModel.hasRouterEmbedding()) {
            throw new IllegalArgumentException("public model " + publicModel.describe() + " has no router embedding"
                    + " (model.layers.{i}.mlp.gate.weight): it cannot have been used to train experts");
        }
        Map<String, ExpertArtifact> byName = new HashMap<>();
        for (ExpertArtifact e : experts) {
            check(publicModel, e);
            ExpertArtifact other = byName.put(e.domain(), e);
            if (other != null) {
                throw new IllegalArgumentException("expert name '" + e.domain() + "' appears twice: "
                        + other.describe() + " and " + e.describe() + " (names are the experts' domains and must be"
                        + " unique)");
            }
        }

        ModelConfig pc = publicModel.config();
        int d = pc.dim();
        boolean dense = n == 0;
        List<NamedTensor> tensors = new ArrayList<>();
        for (NamedTensor t : publicModel.denseTensors()) {
            if (!isDenseFfn(t.name(), pc)) {
                tensors.add(copy(t, t.name()));
            }
        }
        for (int i = 0; i < pc.layers(); i++) {
            for (String proj : List.of("gate", "up", "down")) {
                tensors.add(copy(publicModel.stored(ParameterNames.ffn(i, 0, true, proj)),
                        ParameterNames.ffn(i, 0, dense, proj)));
                for (int e = 1; e <= n; e++) {
                    tensors.add(copy(experts.get(e - 1).ffn(i, proj), ParameterNames.ffn(i, e, false, proj)));
                }
            }
            if (!dense) {
                float[] router = new float[(n + 1) * d];
                float[] bias = new float[n + 1];
                System.arraycopy(publicModel.routerEmbedding(i), 0, router, 0, d);
                for (int e = 1; e <= n; e++) {
                    System.arraycopy(experts.get(e - 1).routerRow(i), 0, router, e * d, d);
                    bias[e] = experts.get(e - 1).bias(i);
                }
                tensors.add(new NamedTensor(ParameterNames.router(i), new int[] {n + 1, d}, router));
                tensors.add(new NamedTensor(ParameterNames.expertBias(i), new int[] {n + 1}, bias));
            }
        }
        List<ArtifactPart> parts = new ArrayList<>();
        parts.add(publicModel.part().withFingerprint(publicModel.fingerprint()));
        for (ExpertArtifact e : experts) {
            parts.add(e.part().withFingerprint(e.fingerprint()));
        }
        ArtifactMetadata metadata = new ArtifactMetadata(ArtifactKind.COMPOSED, pc.withExperts(n + 1, topK),
                publicModel.tokenizer(), publicModel.fingerprint(), parts);
        return new ComposedModel(metadata, tensors);
    }

    /** Refuses an expert that was not trained against this public model. */
    private static void check(PublicModelArtifact publicModel, ExpertArtifact e) {
        if (!e.publicModel().equals(publicModel.fingerprint())) {
            throw new IllegalArgumentException("expert " + e.describe() + " was trained against public model "
                    + e.publicModel().shortForm() + ", not " + publicModel.fingerprint().shortForm() + " ("
                    + publicModel.describe() + "): refusing to compose them");
        }
        if (!e.tokenizer().equals(publicModel.tokenizer())) {
            throw new IllegalArgumentException("expert " + e.describe() + " uses tokenizer "
                    + e.tokenizer().shortForm() + ", public model " + publicModel.describe() + " uses "
                    + publicModel.tokenizer().shortForm() + ": refusing to compose them");
        }
        String diff = Artifact.architectureDifference(publicModel.config(), e.config());
        if (diff != null) {
            throw new IllegalArgumentException("expert " + e.describe() + " has another shape than public model "
                    + publicModel.describe() + ": " + diff);
        }
        if (e.domain().equals(publicModel.domain())) {
            throw new IllegalArgumentException("expert " + e.describe() + " has the public model's name '"
                    + e.domain() + "'; expert names must differ from it");
        }
        for (int i = 0; i < publicModel.config().layers(); i++) {
            if (!Arrays.equals(e.publicRouterRow(i), publicModel.routerEmbedding(i))) {
                throw new IllegalArgumentException("expert " + e.describe() + ": its router row 0 in layer " + i
                        + " differs from the router embedding of public model " + publicModel.describe()
                        + ", although its recorded fingerprint matches: the expert file is inconsistent");
            }
        }
    }

    private static boolean isDenseFfn(String name, ModelConfig c) {
        for (int i = 0; i < c.layers(); i++) {
            for (String proj : List.of("gate", "up", "down")) {
                if (name.equals(ParameterNames.ffn(i, 0, true, proj))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static NamedTensor copy(NamedTensor t, String name) {
        return new NamedTensor(name, t.shape(), t.data().clone());
    }
}
