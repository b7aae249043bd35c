package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ArtifactFingerprint;
import flexmoe.moe.artifact.ArtifactPart;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.TokenizerFingerprint;
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

/** {@code flexmoe pretrain}: the dense public model, then its router embedding r_pub. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pretrain the dense public model on the public domain (AdamW 0.9/0.95, warm-up + cosine,"
                + " clipping 1.0), then add its router embedding r_pub, and write the public model file.",
                "Progress goes to stderr; a checkpoint is written every --checkpoint-every steps and --resume continues"
                + " a killed run with the same bits."})
final class PretrainCommand implements Callable<Integer> {

    /** Default peak rate for the small presets (OLMo-2 1B uses 4e-4; far smaller models take more); see --lr. */
    static final double DEFAULT_LR = 3e-3;
    static final double DEFAULT_WEIGHT_DECAY = 0.1;

    @Option(names = "--preset", paramLabel = "NAME", defaultValue = "quick",
            description = "Model preset: tiny, quick, paper-mini (default: ${DEFAULT-VALUE}); the vocabulary is the"
                    + " tokenizer's.")
    String preset;

    @Option(names = "--domain", paramLabel = "NAME", defaultValue = "public",
            description = "The public domain to train on (default: ${DEFAULT-VALUE}).")
    String domain;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The tokenizer.json the data"
            + " was packed with.")
    Path tokenizerFile;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "" + DEFAULT_WEIGHT_DECAY,
            description = "AdamW weight decay of weight matrices (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The public model file to write.")
    Path out;

    @Mixin
    TrainingArgs training;

    @Mixin
    RouterInitArgs router;

    @Override
    public Integer call() {
        BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
        TokenizerFingerprint fingerprint = new TokenizerFingerprint(tokenizer.fingerprint());
        PackedSequences data = training.load(domain, tokenizer.vocabSize(), fingerprint);
        ModelConfig config = ModelConfig.preset(preset).withVocabSize(tokenizer.vocabSize());
        if (data.seqLen() > config.maxSeqLen()) {
            throw new IllegalArgumentException("--packed: " + data.file() + " has sequences of " + data.seqLen()
                    + " tokens, longer than the " + preset + " preset's context of " + config.maxSeqLen()
                    + " (pack with --seq-len " + config.maxSeqLen() + ")");
        }
        Parameters params = Parameters.init(config, training.seed);
        params.trainAll();
        try (Backend backend = training.backend()) {
            TrainingRun.Summary s = training.train(new FlexOlmoModel(params, backend),
                    AdamWConfig.olmo2(weightDecay), training.schedule(DEFAULT_LR), data, out, System.out, System.err);
            if (s == null) {
                return 0;
            }
            params.freezeAll();
            RouterEmbedding rPub = router.make(domain, domain, params, tokenizer, training.seed, backend);
            PublicModelArtifact artifact = PublicModelArtifact.create(params,
                    ArtifactPart.of(domain, s.tokensSeen(), training.seed, null), fingerprint)
                    .withRouterEmbedding(rPub.vector());
            ArtifactFingerprint written = artifact.save(out);
            System.out.printf(Locale.ROOT, "router embedding r_pub: %s over %d document(s), norm %.4f%n",
                    rPub.strategy(), rPub.documents(), rPub.norm());
            System.out.println("Wrote " + out + " (public model '" + domain + "', " + written.shortForm() + ")");
        }
        return 0;
    }
}
