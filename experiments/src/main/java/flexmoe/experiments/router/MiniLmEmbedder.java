package flexmoe.experiments.router;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import flexmoe.moe.router.DocumentEmbedder;

/**
 * all-MiniLM-L6-v2 (sentence-transformers; 384 wide, mean pooling, L2-normalised), quantised ONNX, run in-process
 * through langchain4j (ONNX Runtime on the CPU): the off-the-shelf embedder for the paper's router-embedding init
 * (FlexOlmo uses GritLM-7B, which is far too large for a small-scale reproduction). The model ships inside the jar,
 * so nothing is downloaded at run time.
 *
 * <p>Long documents are cut to their first {@code maxChars} characters (default {@value #DEFAULT_MAX_CHARS}, about
 * 500 word pieces: one model window). sentence-transformers truncates to its window too; langchain4j on its own
 * would embed every 510-token partition of a long document and average them, which costs time linear in the
 * document and, for a domain mean over many documents, changes little.
 *
 * <p>Deterministic for a given machine and thread setting: the same text gives the same vector.
 */
public final class MiniLmEmbedder implements DocumentEmbedder {

    /** The strategy name on the command line and in artifact metadata. */
    public static final String NAME = "minilm";
    /** all-MiniLM-L6-v2's output width. */
    public static final int WIDTH = 384;
    public static final int DEFAULT_MAX_CHARS = 2000;

    private final AllMiniLmL6V2QuantizedEmbeddingModel model;
    private final int maxChars;

    public MiniLmEmbedder() {
        this(DEFAULT_MAX_CHARS);
    }

    public MiniLmEmbedder(int maxChars) {
        if (maxChars < 1) {
            throw new IllegalArgumentException("minilm: maxChars must be at least 1, got " + maxChars);
        }
        this.maxChars = maxChars;
        // A direct executor: documents are embedded one at a time on the caller's thread, no pool to shut down.
        this.model = new AllMiniLmL6V2QuantizedEmbeddingModel(Runnable::run);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int width() {
        return WIDTH;
    }

    @Override
    public float[] embed(String document) {
        if (document == null || document.isBlank()) {
            throw new IllegalArgumentException("minilm: cannot embed an empty or whitespace-only document");
        }
        float[] v = model.embed(cut(document)).content().vector();
        if (v.length != WIDTH) {
            throw new IllegalStateException("minilm: the model gave " + v.length + " values, expected " + WIDTH);
        }
        return v;
    }

    /** The first maxChars chars, not splitting a surrogate pair. */
    private String cut(String s) {
        if (s.length() <= maxChars) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
        return s.substring(0, end);
    }
}
