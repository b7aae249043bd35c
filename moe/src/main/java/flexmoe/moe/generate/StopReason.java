package flexmoe.moe.generate;

/** Why a sample stopped growing. */
public enum StopReason {
    /** The end-of-document token was drawn (it is not part of the generated tokens). */
    EOS,
    /** {@link Sampling#maxNewTokens()} tokens were generated. */
    MAX_TOKENS,
    /** The model's context (maxSeqLen) is full: prompt plus generated tokens reached it. */
    CONTEXT_FULL
}
