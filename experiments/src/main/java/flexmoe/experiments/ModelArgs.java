package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The model a command runs and where: a public or composed model file with the inference-time expert selection
 * (opt-in with {@code --experts}, opt-out with {@code --exclude}, {@code --active-experts}), or a random model for
 * smoke tests; and the compute backend. Shared by every command that runs a model.
 */
final class ModelArgs {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--model", paramLabel = "FILE",
                description = "A public or composed model file (see flexmoe compose).")
        Path model;

        @Option(names = "--random-preset", paramLabel = "NAME",
                description = "Instead of --model: a random, untrained model of a preset (tiny, quick, paper-mini) with"
                        + " the tokenizer's vocabulary, for smoke tests only.")
        String preset;
    }

    @Option(names = "--experts", split = ",", paramLabel = "NAME",
            description = "Use only these experts, by name (the public model is always in), e.g. --experts math,code.")
    List<String> include;

    @Option(names = "--exclude", split = ",", paramLabel = "NAME",
            description = "Opt these experts out, e.g. --exclude news: their influence is gone, bit for bit.")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--active-experts", paramLabel = "K",
            description = "Experts active per token, top-k of the router (default: the model's, capped at the experts"
                    + " left).")
    Integer activeExperts;

    @Option(names = "--random-seed", paramLabel = "N", defaultValue = "1",
            description = "Seed of the --random-preset model's weights (default: ${DEFAULT-VALUE}).")
    long randomSeed;

    @Option(names = "--random-experts", paramLabel = "N", defaultValue = "1",
            description = "Experts of the --random-preset model, top-k min(2, N): 1 is dense (default:"
                    + " ${DEFAULT-VALUE}).")
    int randomExperts;

    @Mixin
    BackendArgs backendArgs = new BackendArgs();

    Backend backend() {
        return backendArgs.create();
    }

    /** The model file with the expert selection applied (commands that need the parts' names). */
    ComposedModel composed() {
        if (source.model == null) {
            throw new IllegalArgumentException("this command needs --model FILE (a random model has no named experts)");
        }
        if (include != null && !exclude.isEmpty()) {
            throw new IllegalArgumentException("--experts and --exclude: give one or the other, not both");
        }
        return ComposedModel.load(source.model).select(include, exclude, activeExperts);
    }

    /**
     * The model's parameters; with a tokenizer, a random model gets its vocabulary and a model file must have been
     * trained with it (same fingerprint). Notes a random model on {@code err}.
     */
    Parameters load(Tokenizer tokenizer, Path tokenizerFile, PrintStream err) {
        if (source.preset != null) {
            if (randomExperts < 1) {
                throw new IllegalArgumentException("--random-experts must be at least 1, got " + randomExperts);
            }
            ModelConfig config = ModelConfig.preset(source.preset).withExperts(randomExperts,
                    activeExperts != null ? activeExperts : Math.min(2, randomExperts));
            if (tokenizer != null) {
                config = config.withVocabSize(tokenizer.vocabSize());
            }
            err.println("flexmoe: note: a random, untrained " + source.preset + " model (seed " + randomSeed
                    + ", vocabulary " + config.vocabSize() + (config.isDense() ? "" : ", " + config.experts()
                    + " experts, top-" + config.topK()) + "): output is noise, for smoke tests only");
            return Parameters.init(config, randomSeed);
        }
        ComposedModel model = composed();
        if (tokenizer != null && !model.tokenizer().sha256().equals(tokenizer.fingerprint())) {
            throw new IllegalArgumentException("--tokenizer " + tokenizerFile + " (" + tokenizer.fingerprint()
                    .substring(0, 12) + "...) is not the tokenizer the model " + source.model + " was trained with ("
                    + model.tokenizer().shortForm() + "...)");
        }
        return model.parameters();
    }
}
