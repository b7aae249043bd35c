package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ArtifactFingerprint;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.data.Corpus;
import flexmoe.moe.router.RouterTuning;
import flexmoe.moe.tokenizer.BpeTokenizer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe tune-router}: FlexOlmo's optional router tuning of a composed model on public proxy data. */
@Command(name = "tune-router", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Tune the router of a composed model (FlexOlmo's optional stage after the merge): only the"
                + " router rows (r_pub included) and expert biases train, on a mix of one proxy set per expert and a"
                + " public sample; the experts and every shared tensor stay bit-identical.",
                "Proxy set of expert D: the --proxy-documents public TRAIN documents that a nearest-centroid"
                + " classifier (D vs public, on the public model's mean-pooled hidden states, built from"
                + " --owner-documents train documents of D) rates most like D; only public documents enter the mix.",
                "The tuned model's metadata records the tuning; the exact opt-out guarantee holds only for the untuned"
                + " composition. The packed mix is kept next to --out (OUT.mix.bin)."})
final class TuneRouterCommand implements Callable<Integer> {

    static final long DEFAULT_STEPS = 100;
    static final int DEFAULT_PROXY_DOCUMENTS = 100;
    static final int DEFAULT_OWNER_DOCUMENTS = 200;

    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "The composed model (flexmoe compose) whose router is tuned.")
    Path modelFile;

    @Option(names = "--corpus", required = true, paramLabel = "DIR",
            description = "Corpus with the public domain (the proxy candidates and the public sample come from its"
                    + " train split) and each expert's domain (its owner's side of the classifier).")
    Path corpusDir;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The model's tokenizer.json.")
    Path tokenizerFile;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The tuned composed model to write.")
    Path out;

    @Option(names = "--proxy-documents", paramLabel = "N", defaultValue = "" + DEFAULT_PROXY_DOCUMENTS,
            description = "Public documents per proxy set, and in the public sample (default: ${DEFAULT-VALUE}).")
    int proxyDocuments;

    @Option(names = "--owner-documents", paramLabel = "N", defaultValue = "" + DEFAULT_OWNER_DOCUMENTS,
            description = "Train documents of each expert's domain the classifier is built from (default:"
                    + " ${DEFAULT-VALUE}).")
    int ownerDocuments;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "" + DEFAULT_STEPS,
            description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "" + RouterTuning.PAPER_LR,
            description = "Peak learning rate, warm-up 10%% then cosine; AdamW weight decay "
                    + RouterTuning.PAPER_WEIGHT_DECAY + " on the router rows (default: ${DEFAULT-VALUE}, the paper's).")
    double lr;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8",
            description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the document samples and the data order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--progress-seconds", paramLabel = "S", defaultValue = "5",
            description = "Seconds between progress lines (default: ${DEFAULT-VALUE}).")
    double progressSeconds;

    @Mixin
    BackendArgs backendArgs = new BackendArgs();

    @Override
    public Integer call() {
        RouterTuning.Settings settings = new RouterTuning.Settings(steps, lr, batch, seed, proxyDocuments);
        ComposedModel model = ComposedModel.load(modelFile);
        if (model.experts() < 2) {
            throw new IllegalArgumentException("--model " + modelFile + ": has no experts (a public model); compose it"
                    + " with experts first");
        }
        if (model.routerTuned()) {
            throw new IllegalArgumentException("--model " + modelFile + ": is already router-tuned; tune the untuned"
                    + " composition instead");
        }
        BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
        if (!model.tokenizer().sha256().equals(tokenizer.fingerprint())) {
            throw new IllegalArgumentException("--tokenizer " + tokenizerFile + " is not the tokenizer of " + modelFile
                    + " (" + model.tokenizer().shortForm() + "...)");
        }
        Corpus corpus = Corpus.open(corpusDir, flexmoe.moe.data.CorpusOptions.defaults());
        Path mixFile = out.resolveSibling(out.getFileName() + ".mix.bin");
        try (Backend backend = backendArgs.create()) {
            RouterTuning.Result r = RouterTuning.run(model, corpus, tokenizer, settings, ownerDocuments, mixFile,
                    backend, System.out, progressSeconds);
            ArtifactFingerprint written = r.model().save(out);
            System.out.printf(Locale.ROOT, "Wrote %s (%s, router tuned for %d steps, %,d tokens, final loss %.4f;"
                            + " %s)%n", out, String.join("+", r.model().expertNames()), r.summary().steps(),
                    r.summary().tokensSeen(), r.summary().lastLoss(), written.shortForm());
        }
        return 0;
    }
}
