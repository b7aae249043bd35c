package flexmoe.moe.router;

import flexmoe.kernels.Backend;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code external}: embeddings the user brings, computed elsewhere with any embedder whose output has the model's
 * width (the paper's GritLM at d_model, for instance). One file per domain: {@code .npy} or {@code .safetensors}
 * holding [N, d] (one row per document; their mean is taken) or [d] (a precomputed mean, used as it is). float32 or
 * float64 values, all finite. The file is read and checked when the strategy is made.
 */
public final class ExternalEmbeddingInit implements RouterInit {

    public static final String STRATEGY = "external";

    private final Path file;
    private final RouterEmbeddingSource source;

    private record RouterEmbeddingSource(float[] mean, int documents) {
    }

    /** Reads {@code file} now; its width must be {@code width} (d_model). */
    public ExternalEmbeddingInit(Path file, int width, Backend backend) {
        EmbeddingFile.Matrix m = EmbeddingFile.read(file);
        if (m.cols() != width) {
            throw new IllegalArgumentException("embedding file " + file + ": width " + m.cols()
                    + ", expected d_model = " + width);
        }
        this.file = file;
        this.source = m.vector() ? new RouterEmbeddingSource(m.data(), 1)
                : new RouterEmbeddingSource(Means.rowMean(backend, m.data(), m.rows(), m.cols()), m.rows());
    }

    @Override
    public String strategy() {
        return STRATEGY;
    }

    @Override
    public int width() {
        return source.mean.length;
    }

    public Path file() {
        return file;
    }

    /** The file's mean; the documents are ignored (the file stands for them). */
    @Override
    public RouterEmbedding routerEmbedding(String domain, List<String> documents) {
        return new RouterEmbedding(domain, STRATEGY, source.documents, source.mean);
    }
}
