package flexmoe.experiments;

import flexmoe.moe.eval.ClozeOptions;
import picocli.CommandLine.Option;

/**
 * The shape of a cloze question (shared by eval and quickstart; the question count and seed stay with each
 * command, whose defaults and meaning differ).
 */
final class ClozeArgs {

    @Option(names = "--distractors", paramLabel = "N", defaultValue = "" + ClozeOptions.DEFAULT_DISTRACTORS,
            description = "Wrong continuations per cloze question (default: ${DEFAULT-VALUE}).")
    int distractors;

    @Option(names = "--context-chars", paramLabel = "N", defaultValue = "" + ClozeOptions.DEFAULT_CONTEXT_CHARS,
            description = "Characters of cloze context, about (default: ${DEFAULT-VALUE}).")
    int contextChars;

    @Option(names = "--continuation-chars", paramLabel = "N",
            defaultValue = "" + ClozeOptions.DEFAULT_CONTINUATION_CHARS,
            description = "Characters of each cloze continuation, about (default: ${DEFAULT-VALUE}).")
    int continuationChars;

    /** The options for {@code questions} questions per domain drawn with {@code seed}. */
    ClozeOptions options(int questions, long seed) {
        return new ClozeOptions(questions, distractors, contextChars, continuationChars, seed);
    }
}
