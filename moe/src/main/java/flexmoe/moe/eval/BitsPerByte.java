package flexmoe.moe.eval;

import flexmoe.moe.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Bits per byte of a domain's documents: {@code sum of token NLL (nats) / (ln 2 * UTF-8 bytes)}, a
 * tokenizer-independent measure (a tokenizer with longer tokens has fewer, harder predictions; per byte the two
 * compare). Precisely, per document with text {@code s} and tokens {@code t_1..t_n = encode(s)}:
 * <ul>
 *   <li>the model reads {@code [eos, t_1, ..., t_n]}: the end-of-document token stands in front as the document
 *       start, as in the packed training data, where every document follows the previous one's end token;</li>
 *   <li>the scored predictions are exactly {@code t_1..t_n}, each from the tokens before it; the document's own
 *       end token is not predicted, so the nats and the bytes cover the same text;</li>
 *   <li>the bytes are {@code s}'s UTF-8 bytes. Documents are evaluated separately (no context crosses a document
 *       boundary), so the result does not depend on document order or batching.</li>
 * </ul>
 * A document longer than the model's context is cut into windows of {@code seqLen} inputs starting every
 * {@code stride} positions; each window scores only the targets that no earlier window scored, so every token is
 * scored exactly once. {@code stride = seqLen} gives disjoint windows (the default: cheapest); a smaller stride
 * gives later tokens more context at proportionally more compute.
 */
public final class BitsPerByte {

    /**
     * One domain's result. {@code routingShare[layer][expert]}: the share of the scored tokens whose top-k includes
     * the expert (see {@link RoutingCounts}).
     */
    public record Result(String domain, int documents, long bytes, long tokens, double nats,
                         double[][] routingShare) {

        /** {@code nats / (ln 2 * bytes)}. */
        public double bitsPerByte() {
            return nats / (Math.log(2) * bytes);
        }

        /** Mean NLL per scored token in nats (the usual loss; tokenizer-dependent). */
        public double natsPerToken() {
            return nats / tokens;
        }
    }

    private final SequenceScorer scorer;
    private final Tokenizer tokenizer;
    private final int stride;

    /** {@code stride} in [1, scorer.seqLen()]: see the class comment. */
    public BitsPerByte(SequenceScorer scorer, Tokenizer tokenizer, int stride) {
        this.scorer = scorer;
        this.tokenizer = tokenizer;
        this.stride = stride;
        if (stride < 1 || stride > scorer.seqLen()) {
            throw new IllegalArgumentException("bits per byte: stride must be in [1, " + scorer.seqLen() + "], got "
                    + stride);
        }
        requireSameVocabulary(tokenizer, scorer);
    }

    static void requireSameVocabulary(Tokenizer tokenizer, SequenceScorer scorer) {
        if (tokenizer.vocabSize() != scorer.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's vocabulary has " + scorer.config().vocabSize()
                    + ": use the tokenizer the model was trained with");
        }
    }

    /** Evaluates a domain's documents. */
    public Result evaluate(String domain, Iterable<String> documents) {
        Accumulator acc = start(domain);
        for (String d : documents) {
            acc.add(d);
        }
        return acc.finish();
    }

    /** Starts a domain whose documents arrive one at a time (e.g. streamed from a corpus). */
    public Accumulator start(String domain) {
        return new Accumulator(domain);
    }

    /** Collects a domain's windows and scores them a batch at a time. */
    public final class Accumulator {
        private final String domain;
        private final RoutingCounts routing = new RoutingCounts(scorer.config());
        private final List<SequenceScorer.Item> pending = new ArrayList<>();
        private int documents;
        private long bytes;
        private long tokens;
        private double nats;

        private Accumulator(String domain) {
            this.domain = domain;
        }

        public void add(String text) {
            int[] ids = tokenizer.encode(text);
            int n = ids.length;
            if (n == 0) {
                throw new IllegalArgumentException("bits per byte: domain '" + domain + "': document "
                        + (documents + 1) + " has no tokens");
            }
            int[] x = new int[n + 1];
            x[0] = tokenizer.eosId();
            System.arraycopy(ids, 0, x, 1, n);
            int seq = scorer.seqLen();
            int scoredUpTo = 0;
            for (int begin = 0; ; begin += stride) {
                int end = Math.min(begin + seq, n);
                int[] inputs = java.util.Arrays.copyOfRange(x, begin, end);
                int[] targets = new int[end - begin];
                for (int i = begin; i < end; i++) {
                    targets[i - begin] = i >= scoredUpTo ? x[i + 1] : -1;
                }
                pending.add(new SequenceScorer.Item(inputs, targets));
                scoredUpTo = end;
                if (end == n) {
                    break;
                }
            }
            documents++;
            bytes += text.getBytes(StandardCharsets.UTF_8).length;
            tokens += n;
            // Only full batches until the end, so a long document's windows do not leave half-empty forwards.
            while (pending.size() >= scorer.batch()) {
                flush(scorer.batch());
            }
        }

        private void flush(int n) {
            List<SequenceScorer.Item> batch = pending.subList(0, n);
            for (double v : scorer.score(batch, routing)) {
                nats += v;
            }
            batch.clear();
        }

        /** Scores what is left and returns the domain's result. */
        public Result finish() {
            flush(pending.size());
            if (documents == 0) {
                throw new IllegalArgumentException("bits per byte: domain '" + domain + "' has no documents");
            }
            return new Result(domain, documents, bytes, tokens, nats, routing.shares());
        }
    }
}
