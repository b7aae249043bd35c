package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ArtifactFingerprint;
import flexmoe.moe.artifact.ArtifactPart;
import flexmoe.moe.artifact.ExpertArtifact;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.expert.CoordinatedTraining;
import flexmoe.moe.expert.ExpertBias;
import flexmoe.moe.expert.ExpertTrainingSettings;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.router.RouterEmbedding;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.TrainingRun;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe train-expert}: FlexOlmo's coordinated training of one expert against a frozen public model. */
@Command(name = "train-expert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an expert on one domain against a frozen public model (FlexOlmo's coordinated training):"
                + " a 2-expert MoE [frozen public FFN, trainable copy], top-2; only the copy's FFN, its router row r_i"
                + " and its bias b_i train (AdamW, weight decay 0); everything else stays bit-identical.",
                "Writes the expert file with the public model's fingerprint; compose it with flexmoe compose."})
final class TrainExpertCommand implements Callable<Integer> {

    static final double DEFAULT_LR = 1e-3;
    /** Router-row and bias learning-rate multiplier: the paper's single rate (see {@link AdamWConfig#withRouterLrScale}). */
    static final double DEFAULT_ROUTER_LR_SCALE = 1;

    @Option(names = "--public", required = true, paramLabel = "FILE",
            description = "The public model file (with its router embedding, see flexmoe pretrain).")
    Path publicFile;

    @Option(names = "--domain", required = true, paramLabel = "NAME", description = "The expert's domain.")
    String domain;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "The public model's tokenizer.json.")
    Path tokenizerFile;

    @Option(names = "--bias-init", paramLabel = "X", defaultValue = "" + ExpertBias.DEFAULT_INIT,
            description = "Initial expert bias b_i, at most 0 (default: ${DEFAULT-VALUE}).")
    double biasInit;

    @Option(names = "--no-bias", description = "The ablation without expert bias: b_i is 0 and frozen.")
    boolean noBias;

    @Option(names = "--router-lr-scale", paramLabel = "X", defaultValue = "" + DEFAULT_ROUTER_LR_SCALE,
            description = "Learning-rate multiplier for the router row r_i and bias b_i, in [0, 1]: 1 is the paper's"
                    + " single rate; 0 keeps them at their init (default: ${DEFAULT-VALUE}). r_i only sees its own"
                    + " domain, where the expert beats the public FFN, so it grows along the direction all hidden"
                    + " states share; at small scale the composed model then routes most tokens to one expert.")
    double routerLrScale;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The expert file to write.")
    Path out;

    @Mixin
    TrainingArgs training;

    @Mixin
    RouterInitArgs router;

    @Override
    public Integer call() {
        PublicModelArtifact publicModel = PublicModelArtifact.load(publicFile);
        if (!publicModel.hasRouterEmbedding()) {
            throw new IllegalArgumentException("--public " + publicFile + ": the public model has no router embedding"
                    + " r_pub (make it with flexmoe pretrain)");
        }
        BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
        if (!publicModel.tokenizer().sha256().equals(tokenizer.fingerprint())) {
            throw new IllegalArgumentException("--tokenizer " + tokenizerFile + " is not the tokenizer of public model "
                    + publicFile + " (" + publicModel.tokenizer().shortForm() + "...)");
        }
        if (!(routerLrScale >= 0 && routerLrScale <= 1)) {
            throw new IllegalArgumentException("--router-lr-scale: must be in [0, 1], got " + routerLrScale);
        }
        PackedSequences data = training.load(domain, publicModel.config().vocabSize(), publicModel.tokenizer());
        ExpertBias bias = noBias ? ExpertBias.none() : ExpertBias.trained(biasInit);
        Parameters dense = publicModel.parameters();
        try (Backend backend = training.backend()) {
            RouterEmbedding rExpert = router.make(domain, publicModel.domain(), dense, tokenizer, training.seed,
                    backend);
            System.out.printf(Locale.ROOT, "router embedding r_%s: %s over %d document(s), norm %.4f%n", domain,
                    rExpert.strategy(), rExpert.documents(), rExpert.norm());
            Parameters expertModel = CoordinatedTraining.upcycle(dense, publicModel.routerEmbedding(0),
                    rExpert.vector(), bias, ModelConfig.EXPERT_TRAINING_LM_Z_LOSS);
            TrainingRun.Summary s = training.train(new FlexOlmoModel(expertModel, backend),
                    AdamWConfig.expertTraining().withRouterLrScale(routerLrScale), training.schedule(DEFAULT_LR), data,
                    out, System.out, System.err);
            if (s == null) {
                return 0;
            }
            expertModel.freezeAll();
            ExpertArtifact expert = ExpertArtifact.fromTrainingModel(expertModel, publicModel,
                    ArtifactPart.of(domain, s.tokensSeen(), training.seed, null).withTraining(
                            new ExpertTrainingSettings(training.schedule(DEFAULT_LR).peakLr(), routerLrScale, bias,
                                    rExpert.strategy(), router.norm, rExpert.documents()).toJson()));
            ArtifactFingerprint written = expert.save(out);
            System.out.println("Wrote " + out + " (expert '" + domain + "', " + written.shortForm()
                    + ", trained against public model " + publicModel.fingerprint().shortForm() + ")");
        }
        return 0;
    }
}
