package flexmoe.experiments;

import flexmoe.moe.artifact.ComposedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The model a command runs: a public or composed model file, and the inference-time expert selection (opt-in with
 * {@code --experts}, opt-out with {@code --exclude}, {@code --top-k}). For every command that runs a model.
 */
final class ModelArgs {

    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "A public or composed model file (see flexmoe compose).")
    Path model;

    @Option(names = "--experts", split = ",", paramLabel = "NAME",
            description = "Use only these experts, by name (the public model is always in), e.g. --experts math,code.")
    List<String> include;

    @Option(names = "--exclude", split = ",", paramLabel = "NAME",
            description = "Opt these experts out, e.g. --exclude news: their influence is gone, bit for bit.")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--top-k", paramLabel = "K",
            description = "Active experts per token (default: the model's, capped at the experts left).")
    Integer topK;

    /** Loads the model file and applies the selection. */
    ComposedModel load() {
        if (include != null && !exclude.isEmpty()) {
            throw new IllegalArgumentException("--experts and --exclude: give one or the other, not both");
        }
        return ComposedModel.load(model).select(include, exclude, topK);
    }
}
