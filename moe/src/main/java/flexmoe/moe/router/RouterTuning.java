package flexmoe.moe.router;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.Split;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.tokenizer.Tokenizer;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.SequenceLoader;
import flexmoe.moe.train.TrainingRun;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * FlexOlmo's optional stage after the merge: train only the router of a composed model, every expert's router row
 * r_i (r_pub included) and the experts' biases b_i, on a small mix of public data and per-domain proxy sets
 * ({@link ProxySelection}); the experts' FFNs and everything shared stay frozen (bit-identical: the optimizer never
 * holds them). The point: in coordinated training no router row ever saw another domain's text, least of all public
 * text, so the merged router does not know when to keep a token on the public expert; here it sees public text and
 * public text that looks like each domain, with every expert present.
 *
 * <p>Settings from the paper and its code: AdamW with weight decay 0.1 (on the router rows; the biases get none,
 * {@link AdamWConfig}), peak rate 2e-3, a uniform mix of the proxy sets and a public sample, about 1% of the expert
 * training tokens. The training loop is the project's {@link TrainingRun} with a warm-up + cosine schedule, as for
 * the experts.
 *
 * <p>The tuned model's metadata records the tuning ({@link #record}); the exact opt-out guarantee then holds only for
 * the untuned composition (see {@link ComposedModel}).
 */
public final class RouterTuning {

    /** The reference code's peak learning rate for router tuning. */
    public static final double PAPER_LR = 2e-3;
    /** The paper's AdamW weight decay for router tuning. */
    public static final double PAPER_WEIGHT_DECAY = 0.1;
    /** How proxy documents are chosen (recorded in the metadata). */
    public static final String PROXY_SELECTION = "hidden-mean nearest-centroid, public train split";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * One tuning run.
     *
     * @param steps           optimizer steps
     * @param lr              peak learning rate (warm-up over 10% of the steps, then cosine)
     * @param batch           sequences per step
     * @param seed            data order (and the mix's document order)
     * @param proxyDocuments  public documents per domain in each proxy set, and in the public sample
     */
    public record Settings(long steps, double lr, int batch, long seed, int proxyDocuments) {
        public Settings {
            if (steps < 1) {
                throw new IllegalArgumentException("--steps: must be at least 1, got " + steps);
            }
            if (!(lr > 0) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException("--lr: must be positive and finite, got " + lr);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("--batch: must be at least 1, got " + batch);
            }
            if (proxyDocuments < 1) {
                throw new IllegalArgumentException("--proxy-documents: must be at least 1, got " + proxyDocuments);
            }
        }
    }

    /** What a run made: the tuned model and the run's summary. */
    public record Result(ComposedModel model, TrainingRun.Summary summary) {
    }

    private RouterTuning() {
    }

    /**
     * The whole stage on a corpus that holds the public domain and every expert's domain: proxy sets for each expert
     * ({@link ProxySelection}: the public train split scored against {@code ownerDocuments} train documents of the
     * expert's domain, in that owner's place), a public sample of the same size ({@link DomainSample}), the mix packed
     * into {@code mixFile}, then {@link #tune}. One line per proxy set goes to {@code progress}.
     *
     * @param tokenizer  the model's tokenizer (its fingerprint must be the model's)
     */
    public static Result run(ComposedModel model, Corpus corpus, Tokenizer tokenizer, Settings settings,
                             int ownerDocuments, Path mixFile, Backend backend, PrintStream progress,
                             double progressSeconds) {
        if (ownerDocuments < 1) {
            throw new IllegalArgumentException("--owner-documents: must be at least 1, got " + ownerDocuments);
        }
        if (model.config().isDense()) {
            throw new IllegalArgumentException("router tuning: " + model.describe() + " has no experts to route to");
        }
        List<String> names = model.expertNames();
        corpus.requireDomains(names);
        String publicDomain = names.getFirst();
        TokenizerFingerprint fp = model.tokenizer();
        List<String> candidates = new ArrayList<>();
        corpus.forEachDocument(publicDomain, Split.TRAIN, d -> candidates.add(d.text()));
        ProxySelection selection = new ProxySelection(new HiddenMeanInit(publicOnly(model), backend, tokenizer),
                candidates);
        List<String> mixDocs = new ArrayList<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (String domain : names.subList(1, names.size())) {
            List<String> owner = DomainSample.documents(corpus, domain, ownerDocuments, settings.seed());
            ProxySelection.Result r = selection.select(domain, owner, settings.proxyDocuments());
            mixDocs.addAll(ProxySelection.documents(candidates, r));
            sizes.put(domain, r.indices().length);
            if (progress != null) {
                progress.printf(Locale.ROOT, "proxy set %s: %d of %d public train documents (classifier on %d %s and"
                                + " %d public documents: %.2f / %.2f on their side; scores %.3f .. %.3f)%n", domain,
                        r.indices().length, candidates.size(), owner.size(), domain, candidates.size(),
                        r.ownerAccuracy(), r.publicAccuracy(), r.scores()[0], r.scores()[r.scores().length - 1]);
            }
        }
        List<String> publicSample = DomainSample.documents(corpus, publicDomain, settings.proxyDocuments(),
                settings.seed());
        mixDocs.addAll(publicSample);
        PackedSequences mix = packMix(tokenizer, fp, model.config().maxSeqLen(), mixDocs, settings.seed(), mixFile);
        if (progress != null) {
            progress.printf(Locale.ROOT, "mix: %d documents (%d public sample), %d sequences of %d tokens; %d steps"
                            + " of batch %d see %,d tokens%n", mixDocs.size(), publicSample.size(),
                    mix.sequenceCount(), mix.seqLen(), settings.steps(), settings.batch(),
                    settings.steps() * settings.batch() * mix.seqLen());
        }
        return tune(model, mix, settings, record(settings, sizes, publicSample.size(), mix), backend, progress,
                progressSeconds);
    }

    /** The public model inside a composed one (expert 0 only): the document embedder of the proxy selection. */
    private static Parameters publicOnly(ComposedModel model) {
        return model.select(List.of(), List.of(), 1).parameters();
    }

    /** AdamW for router tuning: OLMo-2's betas and clipping, the paper's weight decay 0.1. */
    public static AdamWConfig adamw() {
        return AdamWConfig.olmo2(PAPER_WEIGHT_DECAY);
    }

    /**
     * Makes exactly the router rows (every expert's, r_pub included) and the expert biases of a composed MoE model
     * trainable, everything else frozen.
     */
    public static void markTrainable(Parameters composed) {
        if (composed.config().isDense()) {
            throw new IllegalArgumentException("router tuning: the model is dense (no experts, no router)");
        }
        composed.setTrainable(t -> t.kind() == Tensor.Kind.ROUTER || t.kind() == Tensor.Kind.BIAS);
    }

    /**
     * The training mix as one packed file: {@code documents} (the proxy sets and the public sample, concatenated) in
     * a seeded shuffled order, each followed by EOS, cut into sequences of {@code seqLen + 1} tokens as {@link
     * flexmoe.moe.data.Packer} does (written atomically).
     */
    public static PackedSequences packMix(Tokenizer tokenizer, TokenizerFingerprint fingerprint, int seqLen,
                                          List<String> documents, long seed, Path file) {
        List<String> order = new ArrayList<>(documents);
        Collections.shuffle(order, new SplittableRandom(seed));
        try (PackedSequences.Writer w = new PackedSequences.Writer(file, tokenizer.vocabSize(), seqLen, fingerprint)) {
            for (String doc : order) {
                int[] ids = tokenizer.encode(doc);
                w.append(ids, 0, ids.length);
                w.append(tokenizer.eosId());
                w.documentEnded();
            }
            w.commit();
        }
        PackedSequences mix = PackedSequences.load(file, tokenizer.vocabSize(), fingerprint);
        if (mix.sequenceCount() < 1) {
            throw new IllegalArgumentException("router tuning: the proxy/public mix (" + documents.size()
                    + " documents) fills no sequence of " + seqLen + " tokens; use more --proxy-documents");
        }
        return mix;
    }

    /**
     * Tunes the router of {@code model} on {@code mix}; progress lines go to {@code progress} (null: none). The
     * result is {@code model} with the tuned router rows and biases and {@code record} in its metadata.
     */
    public static Result tune(ComposedModel model, PackedSequences mix, Settings settings, ObjectNode record,
                              Backend backend, PrintStream progress, double progressSeconds) {
        Parameters params = model.parameters();
        markTrainable(params);
        TrainingRun run = new TrainingRun(new FlexOlmoModel(params, backend), adamw(),
                LrSchedule.cosine(settings.lr(), settings.steps() / 10, settings.steps()),
                new SequenceLoader(mix, settings.batch(), settings.seed()),
                new TrainingRun.Options(settings.steps(), 0, null, progress, progressSeconds));
        TrainingRun.Summary summary = run.run();
        params.freezeAll();
        ObjectNode r = record.deepCopy();
        r.put("tokensSeen", summary.tokensSeen());
        return new Result(model.withTunedRouter(params, r), summary);
    }

    /**
     * The metadata record of a tuning run: the settings, what the mix held, and the opt-out caveat in words (the
     * record's presence is what marks the model as tuned; {@code tokensSeen} is added by {@link #tune}).
     *
     * @param proxySets  per domain, the number of proxy documents actually chosen
     * @param publicSample documents in the public sample
     * @param mix        the packed mix
     */
    public static ObjectNode record(Settings settings, Map<String, Integer> proxySets, int publicSample,
                                    PackedSequences mix) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("steps", settings.steps());
        o.put("lr", settings.lr());
        o.put("weightDecay", PAPER_WEIGHT_DECAY);
        o.put("batch", settings.batch());
        o.put("seed", settings.seed());
        o.put("trained", "router rows (r_pub included) and expert biases; experts and shared tensors frozen");
        o.put("proxySelection", PROXY_SELECTION);
        ObjectNode sets = o.putObject("proxyDocuments");
        proxySets.forEach(sets::put);
        o.put("publicSampleDocuments", publicSample);
        o.put("mixSequences", mix.sequenceCount());
        o.put("optOut", "exact only for the untuned composition: the tuned router rows were fitted with every"
                + " expert present");
        return o;
    }
}
