package flexmoe.moe.router;

import flexmoe.kernels.Backend;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.TokenBatch;
import flexmoe.moe.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * {@code hidden-mean}: the public model's own hidden states as the document embedder (the paper's weaker
 * alternative to an off-the-shelf embedder: 43.5 vs 46.7 average).
 *
 * <p>A document's embedding is the mean over its tokens of the <b>final RMSNorm's output</b> (the LM head's input,
 * {@link FlexOlmoModel#finalHidden()}); the domain's vector is the mean over documents. Why that layer: it is what
 * LM-based embedders such as the paper's GritLM mean-pool (the last hidden states), it sees the whole depth of the
 * model, and the RMSNorm fixes its scale whatever the depth or the training stage, whereas the residual stream that
 * routers read grows layer by layer and would make "the first MoE layer's input" a depth-dependent choice for a
 * vector that seeds every layer alike.
 *
 * <p>Each document is read as the model was trained: the end-of-document token first (in packed training data a
 * document follows the previous one's EOS), then its first {@code maxSeqLen - 1} tokens, one window, as an embedder
 * with that context would truncate it. The EOS position is not pooled. Documents are batched, padded at the end
 * (causal attention: padding never changes the positions before it), and pooled with one GEMM per batch.
 */
public final class HiddenMeanInit implements RouterInit {

    public static final String STRATEGY = "hidden-mean";
    /** Documents per forward. */
    public static final int DEFAULT_BATCH = 8;

    private final FlexOlmoModel model;
    private final Tokenizer tokenizer;
    private final int batch;

    /** Over the public model {@code publicModel} (its tensors are only read) and the public tokenizer. */
    public HiddenMeanInit(Parameters publicModel, Backend backend, Tokenizer tokenizer) {
        this(publicModel, backend, tokenizer, DEFAULT_BATCH);
    }

    public HiddenMeanInit(Parameters publicModel, Backend backend, Tokenizer tokenizer, int batch) {
        if (publicModel == null || backend == null || tokenizer == null) {
            throw new IllegalArgumentException("hidden-mean router init: model, backend and tokenizer are required");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("hidden-mean router init: batch must be at least 1, got " + batch);
        }
        ModelConfig c = publicModel.config();
        if (tokenizer.vocabSize() > c.vocabSize()) {
            throw new IllegalArgumentException("hidden-mean router init: the tokenizer has " + tokenizer.vocabSize()
                    + " tokens, the public model's vocabulary only " + c.vocabSize());
        }
        if (c.maxSeqLen() < 2) {
            throw new IllegalArgumentException("hidden-mean router init: maxSeqLen must be at least 2 (EOS + one token)");
        }
        this.model = new FlexOlmoModel(publicModel, backend);
        this.tokenizer = tokenizer;
        this.batch = batch;
    }

    @Override
    public String strategy() {
        return STRATEGY;
    }

    /** The backend the embeddings are computed on (for callers that keep computing with them). */
    Backend backend() {
        return model.backend();
    }

    @Override
    public int width() {
        return model.config().dim();
    }

    @Override
    public RouterEmbedding routerEmbedding(String domain, List<String> documents) {
        float[] means = documentMeans(documents);
        float[] v = Means.rowMean(model.backend(), means, documents.size(), width());
        return new RouterEmbedding(domain, STRATEGY, documents.size(), v);
    }

    /** Each document's embedding (mean-pooled final hidden states), [N, D] row-major. */
    public float[] documentMeans(List<String> documents) {
        if (documents == null || documents.isEmpty()) {
            throw new IllegalArgumentException("hidden-mean router init: no documents");
        }
        int n = documents.size(), d = width(), s = model.config().maxSeqLen();
        int b = Math.min(batch, n), t = b * s;
        int eos = tokenizer.eosId();
        float[] out = new float[n * d];
        int[] inputs = new int[t];
        float[] pool = new float[b * t];
        for (int first = 0; first < n; first += b) {
            int m = Math.min(b, n - first);
            Arrays.fill(inputs, eos);
            Arrays.fill(pool, 0f);
            for (int j = 0; j < m; j++) {
                int[] ids = tokenizer.encode(documents.get(first + j));
                if (ids.length == 0) {
                    throw new IllegalArgumentException("hidden-mean router init: document " + (first + j)
                            + " has no tokens");
                }
                int len = Math.min(ids.length, s - 1);
                System.arraycopy(ids, 0, inputs, j * s + 1, len);
                // Row j of the pooling matrix averages the document's positions 1..len of sequence j.
                Arrays.fill(pool, j * t + j * s + 1, j * t + j * s + 1 + len, 1f / len);
            }
            model.forward(new TokenBatch(inputs.clone(), null, b, s));
            float[] hidden = model.finalHidden();
            model.backend().gemm().matmul(pool, 0, hidden, 0, out, first * d, m, d, t, false);
        }
        return out;
    }
}
