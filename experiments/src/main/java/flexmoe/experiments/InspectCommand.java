package flexmoe.experiments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.moe.artifact.Artifact;
import flexmoe.moe.artifact.ArtifactKind;
import flexmoe.moe.artifact.ArtifactMetadata;
import flexmoe.moe.artifact.ArtifactPart;
import flexmoe.moe.artifact.ExpertArtifact;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.artifact.SafeTensors;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code flexmoe inspect FILE}: an artifact's metadata, fingerprints and tensors, after validating all of it. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show what a flexmoe artifact (public model, expert or composed model) holds: kind, domain,"
                + " model config, tokens seen, seed, privacy guarantee, tokenizer and public-model fingerprints,"
                + " tensor count and bytes.",
                "The whole file is read and validated first (header, metadata, shapes, finite values, data checksum),"
                + " so a file that inspects cleanly loads cleanly."})
final class InspectCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Parameters(paramLabel = "FILE", description = "A .safetensors artifact.")
    Path file;

    @Option(names = "--json", description = "Print one JSON object: file, sha256, tensors, tensorBytes, metadata.")
    boolean json;

    @Option(names = "--tensors", description = "Also list every tensor: name, shape, bytes.")
    boolean tensors;

    @Override
    public Integer call() throws Exception {
        Artifact a = Artifact.load(file);
        PrintStream out = System.out;
        if (json) {
            ObjectNode o = JSON.createObjectNode();
            o.put("file", file.toString());
            o.put("sha256", a.fingerprint().sha256());
            o.put("tensors", a.tensorCount());
            o.put("tensorBytes", a.tensorBytes());
            if (tensors) {
                ObjectNode list = o.putObject("tensorShapes");
                for (NamedTensor t : a.tensors()) {
                    list.set(t.name(), JSON.valueToTree(t.shape()));
                }
            }
            o.set("metadata", JSON.readTree(SafeTensors.readHeader(file).metadata().get(ArtifactMetadata.KEY)));
            out.println(JSON.writeValueAsString(o));
            return 0;
        }
        ArtifactMetadata m = a.metadata();
        row(out, "file", file.toString());
        row(out, "sha256", a.fingerprint().sha256());
        row(out, "kind", m.kind().jsonName());
        if (m.kind() != ArtifactKind.COMPOSED) {
            ArtifactPart self = m.parts().getFirst();
            row(out, "domain", self.domain());
            row(out, "config", describe(m.config()));
            row(out, "tokens seen", String.format(Locale.ROOT, "%,d", self.tokensSeen()));
            row(out, "seed", Long.toString(self.seed()));
            row(out, "privacy", privacy(self));
            if (self.training() != null) {
                row(out, "training", self.training().toString());
            }
        } else {
            row(out, "experts", String.join(", ", m.partNames()) + " (top-" + m.config().topK() + " of "
                    + m.config().experts() + ")");
            row(out, "config", describe(m.config()));
            row(out, "router", m.routerTuned() ? "router-tuned after the merge: " + m.routerTuning()
                    + " (opt-out is exact only for the untuned composition)"
                    : "as merged (the parts' own rows and biases; opt-out is exact)");
        }
        row(out, "tokenizer", m.tokenizer().toString());
        if (m.publicModel() != null) {
            row(out, "public model", m.publicModel().toString());
        }
        if (a instanceof PublicModelArtifact p) {
            row(out, "router embedding", p.hasRouterEmbedding() ? "r_pub in all " + m.config().layers() + " layers"
                    : "none (add it before training experts against this model)");
        }
        if (a instanceof ExpertArtifact e) {
            StringBuilder biases = new StringBuilder();
            for (int l = 0; l < m.config().layers(); l++) {
                biases.append(l == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", e.bias(l)));
            }
            row(out, "expert bias", biases + " (per layer; applied as min(b, 0))");
        }
        row(out, "tensors", String.format(Locale.ROOT, "%d (%,d bytes)", a.tensorCount(), a.tensorBytes()));
        if (m.kind() == ArtifactKind.COMPOSED) {
            out.printf("%nparts:%n  %2s  %-16s %-12s %14s %20s  %s%n", "#", "name", "sha256", "tokens seen", "seed",
                    "privacy");
            for (int i = 0; i < m.parts().size(); i++) {
                ArtifactPart p = m.parts().get(i);
                out.printf(Locale.ROOT, "  %2d  %-16s %-12s %,14d %20d  %s%n", i, p.domain(),
                        p.fingerprint().shortForm(), p.tokensSeen(), p.seed(), privacy(p));
            }
        }
        if (tensors) {
            out.printf("%ntensors:%n");
            for (NamedTensor t : a.tensors()) {
                out.printf(Locale.ROOT, "  %-56s %-14s %,12d%n", t.name(), Arrays.toString(t.shape()),
                        4L * t.data().length);
            }
        }
        return 0;
    }

    private static void row(PrintStream out, String name, String value) {
        out.printf("%-17s %s%n", name, value);
    }

    private static String privacy(ArtifactPart p) {
        return p.privacy() == null ? "none (trained without DP)" : p.privacy().toString();
    }

    static String describe(ModelConfig c) {
        return String.format(Locale.ROOT, "vocab %d, dim %d, layers %d, heads %d, ffn %d, max seq %d, experts %d"
                        + " (top-%d), rope theta %s, norm eps %s", c.vocabSize(), c.dim(), c.layers(), c.heads(),
                c.ffnHidden(), c.maxSeqLen(), c.experts(), c.topK(), c.ropeTheta(), c.normEps());
    }
}
