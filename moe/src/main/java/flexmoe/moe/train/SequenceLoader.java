package flexmoe.moe.train;

import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.model.TokenBatch;
import java.util.SplittableRandom;

/**
 * Training batches of B sequences from a packed file: inputs are a sequence's first S tokens, targets the next S
 * (the format's own convention, {@link PackedSequences#offset}). Each epoch visits every sequence once, in an order
 * that is a seeded shuffle of that epoch alone (a function of (seed, epoch), so it can be rebuilt on resume without
 * replaying earlier epochs). A batch that reaches the end of an epoch continues at the start of the next one, so
 * every batch is full and no sequence is skipped.
 *
 * <p>{@link #cursor()} and {@link #restore} save and restore the position exactly: a loader restored to a cursor
 * gives the same batches as the loader that produced it.
 */
public final class SequenceLoader {

    /** Where the next batch starts: sequence {@code position} of epoch {@code epoch}'s order (both from 0). */
    public record Cursor(long epoch, int position) {
        public Cursor {
            if (epoch < 0 || position < 0) {
                throw new IllegalArgumentException("loader cursor: epoch and position must be non-negative, got "
                        + epoch + ", " + position);
            }
        }
    }

    private final PackedSequences data;
    private final int batch;
    private final long seed;
    private final int[] order;
    private long epoch;
    private int position;

    /**
     * @param data   the packed sequences (at least one)
     * @param batch  sequences per batch, B >= 1
     * @param seed   the shuffle seed
     */
    public SequenceLoader(PackedSequences data, int batch, long seed) {
        if (data.sequenceCount() < 1) {
            throw new IllegalArgumentException(data.file() + ": holds no sequence to train on (pack more documents or"
                    + " a shorter sequence length)");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
        this.data = data;
        this.batch = batch;
        this.seed = seed;
        this.order = new int[data.sequenceCount()];
        shuffle(0);
    }

    /** The next B sequences. */
    public TokenBatch next() {
        int s = data.seqLen();
        int[] inputs = new int[batch * s];
        int[] targets = new int[batch * s];
        int[] tokens = data.tokens();
        for (int b = 0; b < batch; b++) {
            if (position == order.length) {
                shuffle(epoch + 1);
                position = 0;
            }
            int o = data.offset(order[position++]);
            System.arraycopy(tokens, o, inputs, b * s, s);
            System.arraycopy(tokens, o + 1, targets, b * s, s);
        }
        return new TokenBatch(inputs, targets, batch, s);
    }

    /** Where the next batch starts. */
    public Cursor cursor() {
        return new Cursor(epoch, position);
    }

    /** Continues from {@code cursor} (one this loader's data, batch size and seed produced). */
    public void restore(Cursor cursor) {
        if (cursor.position() > order.length) {
            throw new IllegalArgumentException("loader cursor: position " + cursor.position() + " is past the "
                    + order.length + " sequences of " + data.file());
        }
        shuffle(cursor.epoch());
        position = cursor.position();
    }

    public PackedSequences data() {
        return data;
    }

    public int batch() {
        return batch;
    }

    public long seed() {
        return seed;
    }

    /** Tokens per batch that carry a loss: B * S. */
    public long tokensPerBatch() {
        return (long) batch * data.seqLen();
    }

    /** Fisher-Yates from the identity, with a generator seeded by (seed, epoch) alone. */
    private void shuffle(long e) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // SplittableRandom mixes every output (MurmurHash3-style), so nearby (seed, epoch) give unrelated orders.
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e);
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        epoch = e;
    }
}
