package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.generate.Generation;
import flexmoe.moe.generate.Generator;
import flexmoe.moe.generate.Sampling;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.BpeTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe generate}: sample text from a model with a KV cache. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text from a model: greedy or sampled (temperature, top-k, top-p), reproducible from"
                + " --seed.",
                "Each prompt is read as the start of a document (the end-of-document token goes in front of it, as in"
                + " the packed training data); an empty prompt generates a document from scratch. A sample stops at"
                + " the end-of-document token, after --max-tokens tokens, or when the model's context is full.",
                "Prints, per prompt and sample, a line '### prompt P, sample S: N tokens, <why it stopped>' and then"
                + " the prompt followed by the generated text."})
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The model's tokenizer.json.")
    Path tokenizerFile;

    @Option(names = "--prompt", paramLabel = "TEXT",
            description = "A prompt; repeat for several (default: one empty prompt).")
    List<String> prompts = new ArrayList<>();

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1",
            description = "Samples per prompt, generated as one batch (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64",
            description = "Most tokens generated per sample (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--greedy", description = "Greedy decoding: always the most probable token (ignores the sampling"
            + " options).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
            description = "Softmax temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
            description = "Draw among the K most probable tokens; 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1.0",
            description = "Nucleus: draw among the most probable tokens of total probability P (default:"
                    + " ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the draws (prompt p, counted from 0, uses seed + p): the same seed, model and"
                    + " options give the same text (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        Sampling sampling = greedy ? Sampling.greedy(maxTokens) : new Sampling(temperature, topK, topP, maxTokens, seed);
        if (samples < 1) {
            throw new IllegalArgumentException("--samples must be at least 1, got " + samples);
        }
        BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
        List<String> texts = prompts.isEmpty() ? List.of("") : prompts;
        Parameters params = modelArgs.load(tokenizer, tokenizerFile, System.err);
        long start = System.nanoTime();
        long generated = 0;
        try (Backend backend = modelArgs.backend()) {
            Generator generator = new Generator(params, backend);
            for (int p = 0; p < texts.size(); p++) {
                int[] ids = tokenizer.encode(texts.get(p));
                int[] prompt = new int[ids.length + 1];
                prompt[0] = tokenizer.eosId();
                System.arraycopy(ids, 0, prompt, 1, ids.length);
                // Each prompt draws from its own stream, so adding a prompt does not change the others' text.
                Sampling forPrompt = new Sampling(sampling.temperature(), sampling.topK(), sampling.topP(),
                        sampling.maxNewTokens(), sampling.seed() + p);
                List<Generation> out = generator.generate(prompt, samples, forPrompt, tokenizer.eosId());
                for (int s = 0; s < out.size(); s++) {
                    Generation g = out.get(s);
                    generated += g.tokens().length;
                    TokenizerCommand.printUtf8("### prompt " + (p + 1) + ", sample " + (s + 1) + ": " + g.tokens().length + " tokens, "
                            + switch (g.stop()) {
                                case EOS -> "end of document";
                                case MAX_TOKENS -> "--max-tokens reached";
                                case CONTEXT_FULL -> "the model's context is full";
                            } + "\n" + texts.get(p) + tokenizer.decode(g.tokens()) + "\n");
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.printf(java.util.Locale.ROOT, "generated %d tokens in %.2f s (%.0f tokens/s, prefill included)%n",
                generated, seconds, generated / seconds);
        return 0;
    }
}
