package flexmoe.moe.tokenizer;

/**
 * Text to token ids and back. Implementations are immutable and safe to share between threads.
 * Decoding the encoding of any valid Unicode string gives the string back (byte-level BPE is lossless).
 */
public interface Tokenizer {

    /** Token ids of {@code text}; special tokens are not recognised in the text (it is data, not markup). */
    int[] encode(String text);

    /** The text of {@code ids[from, to)}; ids of special tokens decode to their literal content. */
    String decode(int[] ids, int from, int to);

    default String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    /** Number of token ids, special tokens included; ids are {@code [0, vocabSize)}. */
    int vocabSize();

    /** The end-of-document token that separates documents in packed training sequences. */
    int eosId();

    /**
     * SHA-256 (64 lowercase hex digits) of the tokenizer's canonical saved form. Packed data and model artifacts
     * record it, and refuse to be used with a tokenizer whose fingerprint differs.
     */
    String fingerprint();
}
