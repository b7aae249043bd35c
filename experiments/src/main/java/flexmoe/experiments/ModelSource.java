package flexmoe.experiments;

import flexmoe.moe.model.Parameters;
import java.nio.file.Path;

/** Reads a model file (a public model or a composed FlexOlmo model) into {@link Parameters}. */
@FunctionalInterface
interface ModelSource {

    Parameters load(Path file);

    /**
     * What {@code --model FILE} reads. The safetensors artifacts (public model, experts, composed models) are not in
     * this build yet; until they are, the option says so and points to {@code --random-preset}.
     */
    ModelSource FILES = file -> {
        throw new IllegalArgumentException("--model " + file + ": this build cannot read model files yet (the"
                + " safetensors artifacts arrive with the compose command); use --random-preset NAME for a smoke test");
    };
}
