package flexmoe.experiments;

import flexmoe.moe.artifact.ArtifactFingerprint;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.artifact.Composer;
import flexmoe.moe.artifact.ExpertArtifact;
import flexmoe.moe.artifact.PublicModelArtifact;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flexmoe compose}: FlexOlmo's merge of a public model and expert files into one model file. */
@Command(name = "compose", mixinStandardHelpOptions = true,
        description = {"Compose a public model with experts into one MoE model file (FlexOlmo's merge: router rows,"
                + " biases and FFNs stacked, no training).",
                "Expert 0 is the public model; the experts follow in the order given and are named by their domains."
                + " An expert trained against another public model, or with another tokenizer, is refused.",
                "Without --out the composition is checked and described, and nothing is written."})
final class ComposeCommand implements Callable<Integer> {

    /** The paper's quality rises with k up to 4 and then plateaus. */
    static final int DEFAULT_MAX_TOP_K = 4;

    @Option(names = "--public", required = true, paramLabel = "FILE", description = "The public model file.")
    Path publicFile;

    @Option(names = "--experts", arity = "0..*", paramLabel = "FILE",
            description = "Expert files, in the order they get in the composed model (none: the dense public model).")
    List<Path> expertFiles = new ArrayList<>();

    @Option(names = "--exclude", split = ",", paramLabel = "NAME",
            description = "Leave these experts (by domain) out, e.g. --exclude news,code.")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--active-experts", paramLabel = "K",
            description = "Active experts per token, 1 to 1 + experts (default: all of them, at most "
                    + DEFAULT_MAX_TOP_K + ").")
    Integer topK;

    @Option(names = "--out", paramLabel = "FILE", description = "The composed model file to write (atomically).")
    Path out;

    @Override
    public Integer call() {
        PrintStream stdout = System.out;
        PublicModelArtifact publicModel = PublicModelArtifact.load(publicFile);
        List<ExpertArtifact> experts = new ArrayList<>();
        Set<String> known = new LinkedHashSet<>();
        for (Path f : expertFiles) {
            ExpertArtifact e = ExpertArtifact.load(f);
            known.add(e.domain());
            experts.add(e);
        }
        for (String name : exclude) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("--exclude: unknown expert '" + name + "' (the expert files given: "
                        + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
            }
        }
        experts.removeIf(e -> exclude.contains(e.domain()));
        int k = topK != null ? topK : Math.min(experts.size() + 1, DEFAULT_MAX_TOP_K);
        ComposedModel composed = Composer.compose(publicModel, experts, k);

        stdout.printf("  0  %-16s %s  %s%n", publicModel.domain(), publicModel.fingerprint().shortForm(), publicFile);
        for (int e = 0; e < experts.size(); e++) {
            ExpertArtifact x = experts.get(e);
            stdout.printf("  %d  %-16s %s  %s%n", e + 1, x.domain(), x.fingerprint().shortForm(), x.source());
        }
        if (!exclude.isEmpty()) {
            stdout.println("  excluded: " + String.join(", ", exclude));
        }
        stdout.printf(Locale.ROOT, "composed: %s, top-%d of %d expert%s, %d tensors (%,d bytes)%n",
                String.join(" + ", composed.expertNames()), composed.topK(), composed.experts(),
                composed.experts() == 1 ? "" : "s", composed.tensorCount(), composed.tensorBytes());
        if (out == null) {
            stdout.println("no --out: checked only, nothing written");
        } else {
            ArtifactFingerprint written = composed.save(out);
            stdout.println("wrote " + out + " (" + written + ")");
        }
        return 0;
    }
}
