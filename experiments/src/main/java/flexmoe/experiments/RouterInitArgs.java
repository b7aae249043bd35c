package flexmoe.experiments;

import flexmoe.experiments.router.MiniLmEmbedder;
import flexmoe.kernels.Backend;
import flexmoe.moe.data.Corpus;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.router.DomainSample;
import flexmoe.moe.router.EmbedderInit;
import flexmoe.moe.router.EmbeddingProjection;
import flexmoe.moe.router.ExternalEmbeddingInit;
import flexmoe.moe.router.HiddenMeanInit;
import flexmoe.moe.router.RandomInit;
import flexmoe.moe.router.RouterEmbedding;
import flexmoe.moe.router.RouterInit;
import flexmoe.moe.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** How a router embedding is made (moe.router): the strategy, its documents and files. */
final class RouterInitArgs {

    @Option(names = "--router-init", paramLabel = "STRATEGY", defaultValue = HiddenMeanInit.STRATEGY,
            description = "Router embedding: hidden-mean (mean of the public model's final hidden states over documents"
                    + " of the domain; needs --corpus), minilm (all-MiniLM-L6-v2, projected to d_model on public"
                    + " documents; needs --corpus), external (--router-file) or random (the ablation)"
                    + " (default: ${DEFAULT-VALUE}).")
    String strategy;

    @Option(names = "--router-file", paramLabel = "FILE",
            description = "For --router-init external: embeddings of width d_model, one row per document or a mean"
                    + " (.npy or .safetensors).")
    Path file;

    @Option(names = "--router-documents", paramLabel = "N", defaultValue = "" + DomainSample.PAPER_DOCUMENTS,
            description = "Documents sampled from the domain's train split (default: ${DEFAULT-VALUE}, the paper's).")
    int documents;

    @Option(names = "--router-norm", paramLabel = "X",
            description = "Rescale the router embedding to this Euclidean norm (default: as made, the paper's way;"
                    + " hidden-mean vectors have norm about sqrt(d_model), which makes large router logits and a"
                    + " large router z-loss).")
    Double norm;

    @ArgGroup(exclusive = false, heading = "Corpus (router embedding documents):%n")
    CorpusArgs corpus;

    /**
     * The router embedding of {@code domain}, with the public model {@code publicModel} as the hidden-state embedder
     * and {@code publicDomain}'s documents for a projection.
     */
    RouterEmbedding make(String domain, String publicDomain, Parameters publicModel, Tokenizer tokenizer, long seed,
                         Backend backend) {
        int d = publicModel.config().dim();
        RouterInit init = switch (strategy) {
            case RandomInit.STRATEGY -> new RandomInit(d, publicModel.config().initStd(), seed);
            case ExternalEmbeddingInit.STRATEGY -> {
                if (file == null) {
                    throw new IllegalArgumentException("--router-init external needs --router-file FILE");
                }
                yield new ExternalEmbeddingInit(file, d, backend);
            }
            case HiddenMeanInit.STRATEGY -> new HiddenMeanInit(publicModel, backend, tokenizer);
            case MiniLmEmbedder.NAME -> EmbedderInit.forModel(new MiniLmEmbedder(),
                    new HiddenMeanInit(publicModel, backend, tokenizer), documents(publicDomain, seed),
                    EmbeddingProjection.DEFAULT_RIDGE, backend);
            default -> throw new IllegalArgumentException("--router-init: unknown strategy '" + strategy
                    + "' (expected hidden-mean, minilm, external or random)");
        };
        boolean readsDocuments = strategy.equals(HiddenMeanInit.STRATEGY) || strategy.equals(MiniLmEmbedder.NAME);
        RouterEmbedding r = init.routerEmbedding(domain, readsDocuments ? documents(domain, seed) : List.of());
        return norm == null ? r : r.rescaled(norm);
    }

    private List<String> documents(String domain, long seed) {
        if (corpus == null) {
            throw new IllegalArgumentException("--router-init " + strategy + " reads documents of domain '" + domain
                    + "': give --corpus DIR (or --router-init random)");
        }
        if (documents < 1) {
            throw new IllegalArgumentException("--router-documents: must be at least 1, got " + documents);
        }
        Corpus c = corpus.open();
        return DomainSample.documents(c, domain, documents, seed);
    }
}
