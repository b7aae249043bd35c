package flexmoe.moe.eval;

import java.util.List;

/**
 * One multiple-choice cloze question: a context cut from a held-out document, the true continuation (the text
 * that follows the cut in that document) at index {@code answer} of {@code choices}, and distractors: spans of
 * other documents of the same domain. Every choice starts with the whitespace that precedes its first word, as the
 * true continuation does.
 *
 * @param document          index (in the given list) of the document the context and answer come from
 * @param documentStart     whether the context starts at the document's first character (then the model reads
 *                          the end-of-document token in front of it, as a document start)
 */
public record ClozeQuestion(String context, List<String> choices, int answer, int document, boolean documentStart) {

    public ClozeQuestion {
        choices = List.copyOf(choices);
        if (answer < 0 || answer >= choices.size()) {
            throw new IllegalArgumentException("cloze question: answer " + answer + " is not one of "
                    + choices.size() + " choices");
        }
    }
}
