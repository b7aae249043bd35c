package flexmoe.moe.router;

/**
 * An off-the-shelf document embedder (the paper uses GritLM-7B; flexmoe's is all-MiniLM-L6-v2 in the experiments
 * module, kept out of this module because its jars are ~137 MB). Implementations are deterministic: the same text
 * gives the same vector.
 */
public interface DocumentEmbedder {

    /** A short name, used as the router-init strategy name (e.g. {@code minilm}). */
    String name();

    /** Width of every embedding. */
    int width();

    /** The embedding of one document, {@link #width()} values. */
    float[] embed(String document);
}
