package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ArtifactFingerprint;
import flexmoe.moe.artifact.ArtifactPart;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.expert.DenseContinuedPretraining;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.TrainingRun;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe train-dense}: the baselines' dense continued pretraining of the whole public model on one domain. */
@Command(name = "train-dense", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continue pretraining the whole dense public model on one domain (the baselines' dense experts:"
                + " model soup, BTM, BTX). Every tensor trains; the public model file is not changed.",
                "Writes a dense model file (kind public, domain = the training domain, tokens seen = this phase's),"
                + " usable wherever a model file is (--model)."})
final class TrainDenseCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "The public model file to start from.")
    Path modelFile;

    @Option(names = "--domain", required = true, paramLabel = "NAME", description = "The domain to train on.")
    String domain;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "" + PretrainCommand.DEFAULT_WEIGHT_DECAY,
            description = "AdamW weight decay of weight matrices (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The dense model file to write.")
    Path out;

    @Mixin
    TrainingArgs training;

    @Override
    public Integer call() {
        PublicModelArtifact publicModel = PublicModelArtifact.load(modelFile);
        PackedSequences data = training.load(domain, publicModel.config().vocabSize(), publicModel.tokenizer());
        Parameters params = DenseContinuedPretraining.prepare(publicModel.parameters());
        try (Backend backend = training.backend()) {
            TrainingRun.Summary s = training.train(new FlexOlmoModel(params, backend),
                    AdamWConfig.olmo2(weightDecay), training.schedule(TrainExpertCommand.DEFAULT_LR), data, out,
                    System.out, System.err);
            if (s == null) {
                return 0;
            }
            params.freezeAll();
            ArtifactFingerprint written = PublicModelArtifact.create(params,
                    ArtifactPart.of(domain, s.tokensSeen(), training.seed, null), publicModel.tokenizer()).save(out);
            System.out.println("Wrote " + out + " (dense model continued on '" + domain + "', " + written.shortForm()
                    + ")");
        }
        return 0;
    }
}
