package flexmoe.moe.model;

/**
 * B sequences of S tokens, flattened row-major: {@code inputs[b * S + s]} is token s of sequence b and
 * {@code targets} the same positions' next tokens, -1 where no loss is taken (padding, document
 * boundaries the loader masks). Targets may be null for a forward without a loss.
 */
public record TokenBatch(int[] inputs, int[] targets, int batch, int seq) {

    /** The target that means "no loss here" (the kernels' ignore index). */
    public static final int IGNORE = -1;

    public TokenBatch {
        if (batch < 1) {
            throw new IllegalArgumentException("TokenBatch.batch: must be at least 1, got " + batch);
        }
        if (seq < 1) {
            throw new IllegalArgumentException("TokenBatch.seq: must be at least 1, got " + seq);
        }
        if (inputs == null) {
            throw new IllegalArgumentException("TokenBatch.inputs: is null");
        }
        long tokens = (long) batch * seq;
        if (inputs.length != tokens) {
            throw new IllegalArgumentException("TokenBatch.inputs: length " + inputs.length + " != batch " + batch
                    + " * seq " + seq + " = " + tokens);
        }
        if (targets != null && targets.length != inputs.length) {
            throw new IllegalArgumentException("TokenBatch.targets: length " + targets.length
                    + " != inputs length " + inputs.length);
        }
    }

    /** B * S. */
    public int tokens() {
        return inputs.length;
    }
}
