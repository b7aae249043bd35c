package flexmoe.moe.data;

/**
 * How a corpus is read.
 *
 * @param maxDocumentBytes documents larger than this (UTF-8 bytes of the text) are skipped and counted
 * @param splitFractions   the train / valid / test fractions of the hash split
 * @param strict           when true, the first document that would be skipped fails the read instead (for CI and for
 *                         corpora that are supposed to be clean)
 */
public record CorpusOptions(long maxDocumentBytes, SplitFractions splitFractions, boolean strict) {

    /** 1 MiB: far above a normal document, low enough that a mis-split file (a whole dump in one line) stands out. */
    public static final long DEFAULT_MAX_DOCUMENT_BYTES = 1L << 20;

    public CorpusOptions {
        if (maxDocumentBytes < 1 || maxDocumentBytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("max document bytes must be in [1, " + (Integer.MAX_VALUE - 16) + "], got "
                    + maxDocumentBytes);
        }
        if (splitFractions == null) {
            throw new IllegalArgumentException("split fractions are required");
        }
    }

    /** 1 MiB cap, 90/5/5 split, problems skipped and counted. */
    public static CorpusOptions defaults() {
        return new CorpusOptions(DEFAULT_MAX_DOCUMENT_BYTES, SplitFractions.DEFAULT, false);
    }

    public CorpusOptions withMaxDocumentBytes(long bytes) {
        return new CorpusOptions(bytes, splitFractions, strict);
    }

    public CorpusOptions withSplitFractions(SplitFractions fractions) {
        return new CorpusOptions(maxDocumentBytes, fractions, strict);
    }

    public CorpusOptions withStrict(boolean strictMode) {
        return new CorpusOptions(maxDocumentBytes, splitFractions, strictMode);
    }
}
