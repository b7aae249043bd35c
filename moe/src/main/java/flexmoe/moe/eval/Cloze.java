package flexmoe.moe.eval;

import flexmoe.moe.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores multiple-choice cloze questions ({@link ClozeTask}) with a model: each choice's log-likelihood given the
 * context, normalised by the choice's UTF-8 bytes (tokenizer-independent, and fair between choices of different
 * lengths: lm-evaluation-harness's {@code acc_norm} normalises by length the same way); the highest wins, ties to
 * the first choice. The model reads the context's tokens followed by the choice's tokens, both encoded on their
 * own (the cut is at a whitespace, which starts the choice's first token in a byte-level BPE), behind the
 * end-of-document token when the context starts its document. A context too long for the model loses tokens from
 * its start. All choices of all questions are scored in batches through one {@link SequenceScorer}.
 */
public final class Cloze {

    /**
     * Accuracy over the questions with its Wilson 95% interval; {@code chance} is 1 / choices.
     * {@code predictions[q]} is the chosen index of question q.
     */
    public record Result(String domain, int questions, int correct, double chance, int[] predictions) {

        public double accuracy() {
            return (double) correct / questions;
        }

        public Wilson.Interval interval95() {
            return Wilson.interval95(correct, questions);
        }
    }

    private final SequenceScorer scorer;
    private final Tokenizer tokenizer;

    public Cloze(SequenceScorer scorer, Tokenizer tokenizer) {
        this.scorer = scorer;
        this.tokenizer = tokenizer;
        BitsPerByte.requireSameVocabulary(tokenizer, scorer);
    }

    /** Length-normalised log-likelihood of each choice: {@code scores[q][c]} in nats per byte (higher is better). */
    public double[][] scores(List<ClozeQuestion> questions) {
        List<SequenceScorer.Item> items = new ArrayList<>();
        for (ClozeQuestion q : questions) {
            int[] context = tokenizer.encode(q.context());
            for (String choice : q.choices()) {
                items.add(item(context, q.documentStart(), tokenizer.encode(choice)));
            }
        }
        double[] nll = scorer.score(items, null);
        double[][] scores = new double[questions.size()][];
        int at = 0;
        for (int i = 0; i < questions.size(); i++) {
            List<String> choices = questions.get(i).choices();
            scores[i] = new double[choices.size()];
            for (int c = 0; c < choices.size(); c++) {
                scores[i][c] = -nll[at++] / choices.get(c).getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return scores;
    }

    /** Scores the questions and counts the correct ones. */
    public Result evaluate(String domain, List<ClozeQuestion> questions) {
        if (questions.isEmpty()) {
            throw new IllegalArgumentException("cloze: domain '" + domain + "' has no questions");
        }
        double[][] scores = scores(questions);
        int correct = 0;
        int[] predictions = new int[questions.size()];
        for (int i = 0; i < scores.length; i++) {
            int best = 0;
            for (int c = 1; c < scores[i].length; c++) {
                if (scores[i][c] > scores[i][best]) {
                    best = c;
                }
            }
            predictions[i] = best;
            correct += best == questions.get(i).answer() ? 1 : 0;
        }
        return new Result(domain, questions.size(), correct, 1.0 / questions.getFirst().choices().size(), predictions);
    }

    /** Inputs {@code [eos?] context choice[..-1]}, targets the choice's tokens only, cut from the left to fit. */
    private SequenceScorer.Item item(int[] context, boolean documentStart, int[] choice) {
        int prefix = documentStart ? 1 : 0;
        int[] seq = new int[prefix + context.length + choice.length];
        if (documentStart) {
            seq[0] = tokenizer.eosId();
        }
        System.arraycopy(context, 0, seq, prefix, context.length);
        System.arraycopy(choice, 0, seq, prefix + context.length, choice.length);
        int firstScored = prefix + context.length; // index in seq of the first choice token
        if (choice.length >= scorer.seqLen()) {
            throw new IllegalArgumentException("cloze: a continuation of " + choice.length + " tokens does not fit"
                    + " the model's context of " + scorer.seqLen() + " with any context: use shorter continuations");
        }
        int from = Math.max(0, seq.length - 1 - scorer.seqLen());
        int[] inputs = Arrays.copyOfRange(seq, from, seq.length - 1);
        int[] targets = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            int target = from + i + 1;
            targets[i] = target >= firstScored ? seq[target] : -1;
        }
        return new SequenceScorer.Item(inputs, targets);
    }
}
