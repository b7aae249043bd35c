package flexmoe.moe.router;

import flexmoe.kernels.Backend;
import java.util.List;

/**
 * The paper's way: the mean over a domain's documents of an off-the-shelf embedder's vectors (FlexOlmo uses
 * GritLM-7B, whose width is d_model; flexmoe's default embedder is all-MiniLM-L6-v2, 384 wide). Used directly when
 * the embedder's width is d_model; otherwise through an {@link EmbeddingProjection} fitted on public documents only.
 * The strategy is named after the embedder ({@code minilm}).
 */
public final class EmbedderInit implements RouterInit {

    private final DocumentEmbedder embedder;
    private final EmbeddingProjection projection;
    private final Backend backend;

    private EmbedderInit(DocumentEmbedder embedder, EmbeddingProjection projection, Backend backend) {
        if (embedder == null || backend == null) {
            throw new IllegalArgumentException("embedder router init: embedder and backend are required");
        }
        if (projection != null && projection.inWidth() != embedder.width()) {
            throw new IllegalArgumentException("embedder router init: the projection takes width "
                    + projection.inWidth() + ", the embedder " + embedder.name() + " gives " + embedder.width());
        }
        this.embedder = embedder;
        this.projection = projection;
        this.backend = backend;
    }

    /** The embedder's vectors as they are (its width must be d_model). */
    public static EmbedderInit direct(DocumentEmbedder embedder, Backend backend) {
        return new EmbedderInit(embedder, null, backend);
    }

    /** The embedder's mean through a fixed projection to d_model. */
    public static EmbedderInit projected(DocumentEmbedder embedder, EmbeddingProjection projection, Backend backend) {
        if (projection == null) {
            throw new IllegalArgumentException("embedder router init: the projection is null");
        }
        return new EmbedderInit(embedder, projection, backend);
    }

    /**
     * For a model of width {@code dModel}: direct when the embedder already has that width, otherwise projected
     * through a ridge projection ({@code ridge}, see {@link EmbeddingProjection}) fitted on {@code publicDocuments}
     * against the public model's hidden-mean embeddings.
     */
    public static EmbedderInit forModel(DocumentEmbedder embedder, HiddenMeanInit publicModel,
                                        List<String> publicDocuments, double ridge, Backend backend) {
        EmbedderInit direct = direct(embedder, backend);
        if (embedder.width() == publicModel.width()) {
            return direct;
        }
        return projected(embedder, EmbeddingProjection.fitOnPublic(direct, publicModel, publicDocuments, ridge,
                backend), backend);
    }

    @Override
    public String strategy() {
        return embedder.name();
    }

    @Override
    public int width() {
        return projection == null ? embedder.width() : projection.outWidth();
    }

    /** The embedder's own width (before any projection). */
    public int embedderWidth() {
        return embedder.width();
    }

    /** The projection, or null when the embedder is used directly. */
    public EmbeddingProjection projection() {
        return projection;
    }

    @Override
    public RouterEmbedding routerEmbedding(String domain, List<String> documents) {
        float[] mean = Means.rowMean(backend, embedAll(documents), documents.size(), embedder.width());
        float[] v = projection == null ? mean : projection.project(mean, backend);
        return new RouterEmbedding(domain, strategy(), documents.size(), v);
    }

    /** The embedder's vectors of {@code documents}, [N, e] row-major, each checked for width and finiteness. */
    public float[] embedAll(List<String> documents) {
        if (documents == null || documents.isEmpty()) {
            throw new IllegalArgumentException("embedder router init (" + embedder.name() + "): no documents");
        }
        int e = embedder.width();
        float[] out = new float[documents.size() * e];
        for (int i = 0; i < documents.size(); i++) {
            float[] v = embedder.embed(documents.get(i));
            if (v == null || v.length != e) {
                throw new IllegalStateException("embedder " + embedder.name() + ": document " + i + " gave "
                        + (v == null ? "null" : v.length + " values") + ", expected " + e);
            }
            for (int j = 0; j < e; j++) {
                if (!Float.isFinite(v[j])) {
                    throw new IllegalStateException("embedder " + embedder.name() + ": document " + i + " value " + j
                            + " is " + v[j]);
                }
            }
            System.arraycopy(v, 0, out, i * e, e);
        }
        return out;
    }
}
