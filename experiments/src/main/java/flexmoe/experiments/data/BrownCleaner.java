package flexmoe.experiments.data;

import java.util.Set;

/**
 * The Brown Corpus (NLTK's tagged copy) to running text. Each sentence is a line of {@code word/tag} tokens, e.g.
 * {@code ``/`` Only/rb a/at handful/nn ''/'' ,/, the/at jury/nn said/vbd ./.}; this gives
 * {@code "Only a handful", the jury said.}: tags stripped (after the last slash, so {@code 1/2/cd} stays
 * {@code 1/2}), {@code ``} and {@code ''} become {@code "}, punctuation attaches to its word, sentences are joined by
 * a space. The corpus marks no paragraphs, so a sample becomes one paragraph.
 */
final class BrownCleaner {

    /** Tokens written without a space before them. */
    private static final Set<String> CLOSING = Set.of(".", ",", ";", ":", "?", "!", ")", "]", "'", "''", "%");
    /** Tokens written without a space after them. */
    private static final Set<String> OPENING = Set.of("``", "`", "(", "[", "$");

    private BrownCleaner() {
    }

    static String clean(String tagged) {
        StringBuilder out = new StringBuilder(tagged.length() / 2);
        boolean glueNext = true;
        for (String line : tagged.split("\n")) {
            String[] tokens = line.strip().split("\\s+");
            for (String token : tokens) {
                if (token.isEmpty()) {
                    continue;
                }
                int slash = token.lastIndexOf('/');
                String word = slash > 0 ? token.substring(0, slash) : token;
                if (!glueNext && !CLOSING.contains(word)) {
                    out.append(' ');
                }
                out.append(word.equals("``") || word.equals("''") ? "\"" : word);
                glueNext = OPENING.contains(word);
            }
        }
        return out.toString();
    }
}
