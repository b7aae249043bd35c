package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Which model a command runs ({@code --model FILE} or a random one for smoke tests) and on which backend. */
final class ModelArgs {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--model", paramLabel = "FILE",
                description = "The model: a public model or a composed FlexOlmo model file.")
        Path model;

        @Option(names = "--random-preset", paramLabel = "NAME",
                description = "Instead of --model: a random, untrained model of a preset (tiny, quick, paper-mini) with"
                        + " the tokenizer's vocabulary, for smoke tests only.")
        String preset;
    }

    @Option(names = "--random-seed", paramLabel = "N", defaultValue = "1",
            description = "Seed of the --random-preset model's weights (default: ${DEFAULT-VALUE}).")
    long randomSeed;

    @Option(names = "--random-experts", paramLabel = "N", defaultValue = "1",
            description = "Experts of the --random-preset model, top-k min(2, N): 1 is dense (default:"
                    + " ${DEFAULT-VALUE}).")
    int randomExperts;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = Backends.DEFAULT,
            description = "Compute backend (default: ${DEFAULT-VALUE}).")
    String backendName;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    Backend backend() {
        return Backends.create(backendName, threads == null ? Runtime.getRuntime().availableProcessors() : threads);
    }

    /**
     * The model; with a tokenizer, a random model gets its vocabulary and a loaded model must have it. Notes a
     * random model on {@code err}.
     */
    Parameters load(Tokenizer tokenizer, Path tokenizerFile, PrintStream err) {
        if (source.preset != null) {
            if (randomExperts < 1) {
                throw new IllegalArgumentException("--random-experts must be at least 1, got " + randomExperts);
            }
            ModelConfig config = ModelConfig.preset(source.preset).withExperts(randomExperts,
                    Math.min(2, randomExperts));
            if (tokenizer != null) {
                config = config.withVocabSize(tokenizer.vocabSize());
            }
            err.println("flexmoe: note: a random, untrained " + source.preset + " model (seed " + randomSeed
                    + ", vocabulary " + config.vocabSize() + (config.isDense() ? "" : ", " + config.experts()
                    + " experts, top-" + config.topK()) + "): output is noise, for smoke tests only");
            return Parameters.init(config, randomSeed);
        }
        Parameters params = ModelSource.FILES.load(source.model);
        if (tokenizer != null && tokenizer.vocabSize() != params.config().vocabSize()) {
            throw new IllegalArgumentException("--tokenizer " + tokenizerFile + " has " + tokenizer.vocabSize()
                    + " tokens but the model " + source.model + " has a vocabulary of " + params.config().vocabSize()
                    + ": use the tokenizer the model was trained with");
        }
        return params;
    }
}
