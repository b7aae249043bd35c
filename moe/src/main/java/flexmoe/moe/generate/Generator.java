package flexmoe.moe.generate;

import flexmoe.kernels.Backend;
import flexmoe.moe.model.InferenceSession;
import flexmoe.moe.model.Parameters;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Text generation with a KV cache ({@link InferenceSession}): the prompt is prefilled once, then each step feeds
 * the tokens just drawn. The samples of one prompt run as one batch (FlexOlmo's extraction attack draws 10 per
 * prefix). A sample stops at the end-of-document token, after {@link Sampling#maxNewTokens()} tokens, or when the
 * model's context (maxSeqLen) is full; the others go on.
 *
 * <p>Reproducible: sample i draws from the i-th {@link SplittableRandom#split()} of a generator seeded with
 * {@link Sampling#seed()}, one uniform per token, so the same model, prompt, sample count and sampling settings
 * give the same tokens. (A different sample count changes the batch, and with it possibly the last bits of the
 * logits on a backend whose GEMM rounding depends on the row count.)
 */
public final class Generator {

    private final Parameters params;
    private final Backend backend;

    public Generator(Parameters params, Backend backend) {
        if (params == null || backend == null) {
            throw new IllegalArgumentException("Generator: parameters and backend are required");
        }
        this.params = params;
        this.backend = backend;
    }

    /** One sample: {@code generate(prompt, 1, sampling, eosId).get(0)}. */
    public Generation generate(int[] prompt, Sampling sampling, int eosId) {
        return generate(prompt, 1, sampling, eosId).get(0);
    }

    /**
     * {@code samples} continuations of {@code prompt} (token ids, at least one: callers usually start a document
     * with the end-of-document token, as the packed training data does). {@code eosId} stops a sample when drawn;
     * -1 never stops early.
     */
    public List<Generation> generate(int[] prompt, int samples, Sampling sampling, int eosId) {
        int maxSeq = params.config().maxSeqLen();
        int vocab = params.config().vocabSize();
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("generate: the prompt is empty (start it with the end-of-document"
                    + " token to generate a document from scratch)");
        }
        if (prompt.length > maxSeq) {
            throw new IllegalArgumentException("generate: the prompt has " + prompt.length
                    + " tokens, more than the model's maxSeqLen " + maxSeq);
        }
        if (samples < 1) {
            throw new IllegalArgumentException("generate: samples must be at least 1, got " + samples);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("generate: sampling settings are required");
        }
        if (eosId < -1 || eosId >= vocab) {
            throw new IllegalArgumentException("generate: eosId must be -1 (none) or in [0, " + vocab + "), got "
                    + eosId);
        }
        // The last drawn token is never fed back, so the cache needs prompt + maxNewTokens - 1 positions.
        int capacity = (int) Math.min(maxSeq, (long) prompt.length + sampling.maxNewTokens() - 1);
        InferenceSession session = new InferenceSession(params, backend, samples, capacity);
        TokenSampler sampler = new TokenSampler(backend, vocab, samples);
        SplittableRandom root = new SplittableRandom(sampling.seed());
        SplittableRandom[] rngs = new SplittableRandom[samples];
        for (int b = 0; b < samples; b++) {
            rngs[b] = root.split();
        }

        int[] input = new int[samples * prompt.length];
        for (int b = 0; b < samples; b++) {
            System.arraycopy(prompt, 0, input, b * prompt.length, prompt.length);
        }
        float[] logits = session.forward(input, prompt.length);
        int count = prompt.length;
        boolean[] active = new boolean[samples];
        java.util.Arrays.fill(active, true);
        StopReason[] stops = new StopReason[samples];
        List<List<Integer>> out = new ArrayList<>();
        for (int b = 0; b < samples; b++) {
            out.add(new ArrayList<>());
        }
        int[] next = new int[samples];
        int running = samples;
        while (true) {
            sampler.next(logits, count, sampling, rngs, active, next);
            for (int b = 0; b < samples; b++) {
                if (!active[b]) {
                    continue;
                }
                if (next[b] == eosId) {
                    stops[b] = StopReason.EOS;
                } else {
                    out.get(b).add(next[b]);
                    if (out.get(b).size() == sampling.maxNewTokens()) {
                        stops[b] = StopReason.MAX_TOKENS;
                    } else if (session.length() == capacity) {
                        stops[b] = StopReason.CONTEXT_FULL;
                    }
                }
                if (stops[b] != null) {
                    active[b] = false;
                    running--;
                }
            }
            if (running == 0) {
                break;
            }
            // Stopped samples still take a (discarded) step, so the batch stays rectangular.
            logits = session.forward(next, 1);
            count = 1;
        }
        List<Generation> result = new ArrayList<>(samples);
        for (int b = 0; b < samples; b++) {
            result.add(new Generation(out.get(b).stream().mapToInt(Integer::intValue).toArray(), stops[b]));
        }
        return result;
    }
}
