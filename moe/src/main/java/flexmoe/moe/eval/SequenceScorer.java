package flexmoe.moe.eval;

import flexmoe.kernels.Backend;
import flexmoe.kernels.CrossEntropyKernels;
import flexmoe.moe.model.InferenceSession;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import java.util.Arrays;
import java.util.List;

/**
 * Log-likelihoods of token sequences under a model, in batches: each sequence is an input and a target per
 * position (the next token, or -1 where nothing is scored), and the result is the sum of
 * {@code -ln p(target | inputs up to here)} over its scored positions, in nats. Sequences of a batch are padded at
 * the end to the longest (causal attention keeps padding from reaching real positions) and run as one prefill of an
 * {@link InferenceSession}, whose logits equal {@link flexmoe.moe.model.FlexOlmoModel#forward}'s; the per-token
 * losses come from the backend's cross-entropy kernel, and their per-sequence sums are taken on the host in double.
 *
 * <p>Optionally counts, for the scored positions, which experts each layer's router put in the top-k (FlexOlmo's
 * routing analysis).
 */
public final class SequenceScorer {

    /** One sequence: {@code targets[i]} is the token that should follow {@code inputs[0..i]}, or -1. */
    public record Item(int[] inputs, int[] targets) {
        public Item {
            if (inputs == null || targets == null || inputs.length != targets.length || inputs.length == 0) {
                throw new IllegalArgumentException("SequenceScorer.Item: inputs and targets must be non-empty and"
                        + " of equal length");
            }
        }
    }

    private final Parameters params;
    private final Backend backend;
    private final InferenceSession session;
    private final int batch;
    private final int seqLen;
    private final int[] tokens;
    private final int[] targets;
    private final float[] loss;
    private final float[] lse;

    /** Scores up to {@code batch} sequences of at most {@code seqLen} tokens (<= maxSeqLen) per forward. */
    public SequenceScorer(Parameters params, Backend backend, int batch, int seqLen) {
        this.params = params;
        this.backend = backend;
        this.session = new InferenceSession(params, backend, batch, seqLen);
        this.batch = batch;
        this.seqLen = seqLen;
        this.tokens = new int[batch * seqLen];
        this.targets = new int[batch * seqLen];
        this.loss = new float[batch * seqLen];
        this.lse = new float[batch * seqLen];
    }

    public ModelConfig config() {
        return params.config();
    }

    /** Longest sequence one item may have. */
    public int seqLen() {
        return seqLen;
    }

    /** Sequences per forward. */
    public int batch() {
        return batch;
    }

    /** The summed NLL (nats) of each item's scored positions, in order; updates {@code routing} when not null. */
    public double[] score(List<Item> items, RoutingCounts routing) {
        double[] nll = new double[items.size()];
        for (int from = 0; from < items.size(); from += batch) {
            int n = Math.min(batch, items.size() - from);
            int len = 0;
            for (int i = 0; i < n; i++) {
                Item item = items.get(from + i);
                if (item.inputs().length > seqLen) {
                    throw new IllegalArgumentException("SequenceScorer: a sequence of " + item.inputs().length
                            + " tokens exceeds the scorer's length " + seqLen);
                }
                len = Math.max(len, item.inputs().length);
            }
            int t = batch * len;
            // Padding (token 0, target -1) fills short sequences and, in the last batch, missing ones.
            Arrays.fill(tokens, 0, t, 0);
            Arrays.fill(targets, 0, t, CrossEntropyKernels.IGNORE);
            for (int i = 0; i < n; i++) {
                Item item = items.get(from + i);
                System.arraycopy(item.inputs(), 0, tokens, i * len, item.inputs().length);
                System.arraycopy(item.targets(), 0, targets, i * len, item.targets().length);
            }
            session.reset();
            float[] logits = session.forward(Arrays.copyOf(tokens, t), len);
            backend.training().crossEntropyForward(logits, targets, t, params.config().vocabSize(), 0f, loss, lse);
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (int p = i * len, end = p + len; p < end; p++) {
                    if (targets[p] != CrossEntropyKernels.IGNORE) {
                        sum += loss[p];
                    }
                }
                nll[from + i] = sum;
            }
            if (routing != null) {
                routing.add(session, targets, t);
            }
        }
        return nll;
    }
}
