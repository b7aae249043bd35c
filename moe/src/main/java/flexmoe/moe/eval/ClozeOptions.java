package flexmoe.moe.eval;

/**
 * How {@link ClozeTask} builds its questions.
 *
 * @param questions         questions per domain
 * @param distractors       wrong continuations per question (the chance accuracy is 1 / (distractors + 1))
 * @param contextChars      characters of context before the cut (about; cuts fall on word boundaries)
 * @param continuationChars characters of each continuation (about; it ends at a word boundary)
 * @param seed              seeds every choice: the same documents, options and seed give the same questions
 */
public record ClozeOptions(int questions, int distractors, int contextChars, int continuationChars, long seed) {

    public static final int DEFAULT_QUESTIONS = 200;
    public static final int DEFAULT_DISTRACTORS = 3;
    public static final int DEFAULT_CONTEXT_CHARS = 256;
    public static final int DEFAULT_CONTINUATION_CHARS = 64;

    public ClozeOptions {
        positive("questions", questions);
        positive("distractors", distractors);
        positive("context characters", contextChars);
        positive("continuation characters", continuationChars);
    }

    public static ClozeOptions defaults(long seed) {
        return new ClozeOptions(DEFAULT_QUESTIONS, DEFAULT_DISTRACTORS, DEFAULT_CONTEXT_CHARS,
                DEFAULT_CONTINUATION_CHARS, seed);
    }

    private static void positive(String what, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("cloze: " + what + " must be at least 1, got " + value);
        }
    }
}
