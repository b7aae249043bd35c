package flexmoe.moe.router;

import java.util.List;

/**
 * A way to initialise a domain's router embedding (FlexOlmo, "router embedding initialisation"): a vector of width
 * d_model from a sample of the domain's documents. The same vector seeds the domain's router row in every layer,
 * and the public router embedding r_pub is made the same way from public documents.
 *
 * <p>Strategies: {@link HiddenMeanInit} ({@code hidden-mean}: the public model's own hidden states),
 * {@link ExternalEmbeddingInit} ({@code external}: a file the user brings), {@link RandomInit} ({@code random}:
 * the ablation), {@link EmbedderInit} (an off-the-shelf {@link DocumentEmbedder}, the paper's way; the
 * all-MiniLM-L6-v2 embedder itself lives in the experiments module).
 */
public interface RouterInit {

    /** The strategy's name, as the command line and artifact metadata spell it. */
    String strategy();

    /** Width of the vectors this strategy makes (d_model of the model they seed). */
    int width();

    /**
     * The router embedding of {@code domain} from {@code documents}, a sample of its training documents (strategies
     * that do not read documents ignore them).
     */
    RouterEmbedding routerEmbedding(String domain, List<String> documents);
}
