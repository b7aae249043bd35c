package flexmoe.moe.eval;

import flexmoe.kernels.CrossEntropyKernels;
import flexmoe.moe.model.InferenceSession;
import flexmoe.moe.model.ModelConfig;

/**
 * FlexOlmo's routing analysis, accumulated over evaluation batches: per layer, the share of scored tokens whose
 * top-k includes each expert (uniform routing gives k / E, and the shares of a layer sum to k). A minimal
 * accumulator for {@link BitsPerByte}; a dense model has one expert that every token uses.
 */
public final class RoutingCounts {

    private final int layers;
    private final int experts;
    private final int topK;
    private final long[][] counts;
    private long tokens;

    public RoutingCounts(ModelConfig config) {
        this.layers = config.layers();
        this.experts = config.experts();
        this.topK = config.topK();
        this.counts = new long[layers][experts];
    }

    /** Adds the last forward's tokens whose target is not -1. */
    void add(InferenceSession session, int[] targets, int t) {
        for (int l = 0; l < layers; l++) {
            int[] ids = session.topKIds(l);
            for (int i = 0; i < t; i++) {
                if (targets[i] != CrossEntropyKernels.IGNORE) {
                    for (int j = 0; j < topK; j++) {
                        counts[l][ids[i * topK + j]]++;
                    }
                }
            }
        }
        for (int i = 0; i < t; i++) {
            if (targets[i] != CrossEntropyKernels.IGNORE) {
                tokens++;
            }
        }
    }

    /** Tokens counted. */
    public long tokens() {
        return tokens;
    }

    /** {@code share[layer][expert]}: the fraction of counted tokens whose top-k includes the expert. */
    public double[][] shares() {
        double[][] share = new double[layers][experts];
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                share[l][e] = tokens == 0 ? 0 : (double) counts[l][e] / tokens;
            }
        }
        return share;
    }
}
