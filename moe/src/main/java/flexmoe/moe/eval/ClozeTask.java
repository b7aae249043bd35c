package flexmoe.moe.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds multiple-choice cloze questions from held-out documents of one domain, deterministically from a seed.
 * Per question: a document long enough is drawn (uniformly, with replacement: a document can give several
 * questions at different cuts); a cut is drawn in it and moved forward to the next whitespace; the context is
 * about {@code contextChars} before the cut, starting at a word (or at the document's start); the true continuation
 * runs from the cut for about {@code continuationChars}, extended to the end of its last word. Each distractor is
 * a span built the same way at a random word boundary of another document of the domain, different from the true
 * continuation and from the other distractors. The answer's position among the choices is drawn too.
 *
 * <p>Why spans of the same domain: a distractor from another domain could be rejected on topic alone; within the
 * domain the model has to follow the context. Spans start at word boundaries so that no choice is given away by a
 * broken word.
 */
public final class ClozeTask {

    /** Draws per question before a document is declared unusable (documents with almost no whitespace). */
    private static final int ATTEMPTS = 100;

    private ClozeTask() {
    }

    /** The questions for {@code documents} (in corpus order); a one-line error when the domain cannot give them. */
    public static List<ClozeQuestion> build(String domain, List<String> documents, ClozeOptions options) {
        int need = options.contextChars() + options.continuationChars() + 1;
        List<Integer> sources = new ArrayList<>();
        List<Integer> spans = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            int len = documents.get(i).length();
            if (len >= need) {
                sources.add(i);
            }
            if (len > options.continuationChars()) {
                spans.add(i);
            }
        }
        if (documents.size() < 2) {
            throw new IllegalArgumentException("cloze: domain '" + domain + "' has " + documents.size()
                    + " document(s); distractors come from other documents, so at least 2 are needed");
        }
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("cloze: domain '" + domain + "' has no document of at least " + need
                    + " characters (context " + options.contextChars() + " + continuation "
                    + options.continuationChars() + " + 1)");
        }
        SplittableRandom rng = new SplittableRandom(options.seed());
        List<ClozeQuestion> questions = new ArrayList<>(options.questions());
        for (int q = 0; q < options.questions(); q++) {
            questions.add(question(domain, documents, sources, spans, options, rng));
        }
        return questions;
    }

    private static ClozeQuestion question(String domain, List<String> docs, List<Integer> sources, List<Integer> spans,
                                          ClozeOptions o, SplittableRandom rng) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int source = sources.get(rng.nextInt(sources.size()));
            String text = docs.get(source);
            int cut = nextWhitespace(text, o.contextChars() + rng.nextInt(text.length() - o.contextChars()
                    - o.continuationChars()));
            if (cut < 0) {
                continue;
            }
            int start = cut - o.contextChars();
            if (start > 0) {
                // Begin at a word: just after the next whitespace, if one comes before the cut.
                int ws = nextWhitespace(text, start - 1);
                start = ws >= 0 && ws + 1 < cut ? ws + 1 : start;
            }
            if (Character.isLowSurrogate(text.charAt(start))) {
                start++; // never split a character
            }
            String context = text.substring(start, cut);
            String answer = span(text, cut, o.continuationChars());
            if (context.isBlank() || answer.isBlank()) {
                continue;
            }
            List<String> choices = new ArrayList<>();
            choices.add(answer);
            for (int d = 0; d < o.distractors(); d++) {
                choices.add(distractor(domain, docs, spans, source, choices, o, rng));
            }
            // The answer goes to a drawn position; the distractors keep their order around it.
            int position = rng.nextInt(choices.size());
            choices.remove(0);
            choices.add(position, answer);
            return new ClozeQuestion(context, choices, position, source, start == 0);
        }
        throw new IllegalArgumentException("cloze: domain '" + domain + "': no word boundary found in " + ATTEMPTS
                + " draws (documents without whitespace?)");
    }

    private static String distractor(String domain, List<String> docs, List<Integer> spans, int source,
                                     List<String> taken, ClozeOptions o, SplittableRandom rng) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int doc = spans.get(rng.nextInt(spans.size()));
            if (doc == source) {
                continue;
            }
            String text = docs.get(doc);
            int at = nextWhitespace(text, rng.nextInt(text.length() - o.continuationChars()));
            if (at < 0) {
                continue;
            }
            String span = span(text, at, o.continuationChars());
            if (!span.isBlank() && !taken.contains(span)) {
                return span;
            }
        }
        throw new IllegalArgumentException("cloze: domain '" + domain + "': could not find " + o.distractors()
                + " distinct distractor spans in other documents in " + ATTEMPTS + " draws (too few documents longer"
                + " than " + o.continuationChars() + " characters?)");
    }

    /** From {@code at} (a whitespace) for about {@code chars}, extended to the end of the last word. */
    private static String span(String text, int at, int chars) {
        int end = Math.min(text.length(), at + chars);
        int ws = nextWhitespace(text, end);
        return text.substring(at, ws < 0 ? text.length() : ws);
    }

    /** Index of the first whitespace character at or after {@code from}, or -1. */
    private static int nextWhitespace(String text, int from) {
        for (int i = Math.max(0, from); i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
