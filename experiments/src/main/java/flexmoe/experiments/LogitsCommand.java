package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.eval.Logits;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.BpeTokenizer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe logits}: a model's logits for given tokens, as .npy, for cross-checking other implementations. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = {"Write the logits of a model for a token sequence as a float32 .npy array [T, V] (row t: the"
                + " logits of the token after the first t + 1), for cross-checking with other implementations, e.g."
                + " numpy.load in Python next to a Hugging Face model.",
                "The ids are used exactly as given (no end-of-document token is added)."})
final class LogitsCommand implements Callable<Integer> {

    @Mixin
    ModelArgs modelArgs;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--ids", paramLabel = "ID", split = ",", description = "Token ids, comma-separated.")
        int[] ids;

        @Option(names = "--text", paramLabel = "TEXT", description = "Text, encoded with --tokenizer.")
        String text;
    }

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "The model's tokenizer.json (needed for --text; checks the vocabulary otherwise).")
    Path tokenizerFile;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The .npy file to write.")
    Path out;

    @Override
    public Integer call() {
        BpeTokenizer tokenizer = tokenizerFile == null ? null : BpeTokenizer.load(tokenizerFile);
        int[] ids;
        if (input.text != null) {
            if (tokenizer == null) {
                throw new IllegalArgumentException("--text needs --tokenizer FILE to encode it");
            }
            ids = tokenizer.encode(input.text);
        } else {
            ids = input.ids;
        }
        Parameters params = modelArgs.load(tokenizer, tokenizerFile, System.err);
        int vocab = params.config().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("--ids: id " + ids[i] + " (item " + (i + 1)
                        + ") is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        try (Backend backend = modelArgs.backend()) {
            Logits.write(out, params, backend, ids);
        }
        System.out.printf("Wrote %s: float32 logits [%d, %d] for %d tokens%n", out, ids.length, vocab, ids.length);
        return 0;
    }
}
