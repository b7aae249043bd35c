package flexmoe.experiments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.kernels.Backend;
import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.DomainReport;
import flexmoe.moe.data.Split;
import flexmoe.moe.eval.BitsPerByte;
import flexmoe.moe.eval.Cloze;
import flexmoe.moe.eval.ClozeOptions;
import flexmoe.moe.eval.ClozeTask;
import flexmoe.moe.eval.SequenceScorer;
import flexmoe.moe.eval.Wilson;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.BpeTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe eval}: bits per byte and cloze accuracy per domain of a corpus split, and routing shares. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model on a corpus split, per domain: bits per byte (tokenizer-independent: the"
                + " summed NLL of each document's tokens, read after an end-of-document token, over its UTF-8 bytes)"
                + " and the accuracy of a multiple-choice cloze task built from the documents (context, the true"
                + " continuation and distractor spans of other documents of the domain, scored by log-likelihood per"
                + " byte), with a Wilson 95%% interval.",
                "For an MoE model also prints the routing analysis: per layer, the share of each domain's tokens whose"
                + " top-k includes each expert (expert 0 is the public model)."})
final class EvalCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Mixin
    CorpusArgs corpusArgs;

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The model's tokenizer.json.")
    Path tokenizerFile;

    @Option(names = "--domains", paramLabel = "NAME", split = ",",
            description = "Domains to evaluate (default: all of the corpus).")
    List<String> domains;

    @Option(names = "--split", paramLabel = "NAME", defaultValue = "test",
            description = "Split to evaluate on: train, valid or test (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Sequences per forward (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--stride", paramLabel = "N",
            description = "Documents longer than the model's context are scored in windows starting every N tokens;"
                    + " each token is scored once (default: the context length, disjoint windows).")
    Integer stride;

    @Option(names = "--cloze-questions", paramLabel = "N", defaultValue = "" + ClozeOptions.DEFAULT_QUESTIONS,
            description = "Cloze questions per domain; 0 skips the cloze task (default: ${DEFAULT-VALUE}).")
    int clozeQuestions;

    @Mixin
    ClozeArgs clozeArgs = new ClozeArgs();

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Seed of the cloze questions (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    private record DomainResult(BitsPerByte.Result bits, Cloze.Result cloze) {
    }

    @Override
    public Integer call() {
        Split which = Split.of(split);
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        if (clozeQuestions < 0) {
            throw new IllegalArgumentException("--cloze-questions must be 0 (skip) or positive, got " + clozeQuestions);
        }
        ClozeOptions cloze = clozeQuestions == 0 ? null
                : clozeArgs.options(clozeQuestions, seed);
        Corpus corpus = corpusArgs.open();
        List<String> names = domains == null ? corpus.domains() : domains;
        corpus.requireDomains(names);
        BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
        Parameters params = modelArgs.load(tokenizer, tokenizerFile, System.err);
        int seqLen = params.config().maxSeqLen();
        List<DomainResult> results = new ArrayList<>();
        try (Backend backend = modelArgs.backend()) {
            SequenceScorer scorer = new SequenceScorer(params, backend, batch, seqLen);
            BitsPerByte bits = new BitsPerByte(scorer, tokenizer, stride == null ? seqLen : stride);
            Cloze clozeEval = new Cloze(scorer, tokenizer);
            for (String domain : names) {
                long start = System.nanoTime();
                List<String> docs = new ArrayList<>();
                DomainReport report = corpus.forEachDocument(domain, which, d -> docs.add(d.text()));
                CorpusArgs.printProblems(System.err, "flexmoe: warning: ", report);
                if (docs.isEmpty()) {
                    throw new IllegalArgumentException("domain '" + domain + "' has no documents in the " + which
                            + " split of " + corpus.dir());
                }
                BitsPerByte.Result b = bits.evaluate(domain, docs);
                Cloze.Result c = cloze == null ? null
                        : clozeEval.evaluate(domain, ClozeTask.build(domain, docs, cloze));
                results.add(new DomainResult(b, c));
                System.err.printf(Locale.ROOT, "  %s: %d documents, %,d tokens in %.1f s%n", domain, b.documents(),
                        b.tokens(), (System.nanoTime() - start) / 1e9);
            }
        }
        printTable(results);
        if (!params.config().isDense()) {
            printRouting(results, params.config().topK(), params.config().experts());
        }
        if (json != null) {
            writeJson(results);
        }
        return 0;
    }

    private void printTable(List<DomainResult> results) {
        System.out.printf("Evaluation on the %s split (bits per byte: lower is better; cloze chance: %s)%n", split,
                results.getFirst().cloze() == null ? "-" : String.format(Locale.ROOT, "%.3f",
                        results.getFirst().cloze().chance()));
        System.out.printf("%-14s %9s %12s %10s %9s %16s %17s%n", "domain", "documents", "bytes", "tokens",
                "bits/byte", "cloze accuracy", "95% interval");
        for (DomainResult r : results) {
            BitsPerByte.Result b = r.bits();
            String acc = "-", interval = "-";
            if (r.cloze() != null) {
                Wilson.Interval i = r.cloze().interval95();
                acc = String.format(Locale.ROOT, "%.3f (%d/%d)", r.cloze().accuracy(), r.cloze().correct(),
                        r.cloze().questions());
                interval = String.format(Locale.ROOT, "[%.3f, %.3f]", i.low(), i.high());
            }
            System.out.printf(Locale.ROOT, "%-14s %9d %,12d %,10d %9.4f %16s %17s%n", b.domain(), b.documents(),
                    b.bytes(), b.tokens(), b.bitsPerByte(), acc, interval);
        }
    }

    private static void printRouting(List<DomainResult> results, int k, int experts) {
        System.out.printf(Locale.ROOT, "%nRouting: share of tokens whose top-%d includes each expert (uniform: %.3f)%n",
                k, (double) k / experts);
        StringBuilder head = new StringBuilder(String.format("%-14s %5s", "domain", "layer"));
        for (int e = 0; e < experts; e++) {
            head.append(String.format("%9s", e == 0 ? "public" : "expert " + e));
        }
        System.out.println(head);
        for (DomainResult r : results) {
            double[][] share = r.bits().routingShare();
            for (int l = 0; l < share.length; l++) {
                StringBuilder line = new StringBuilder(String.format("%-14s %5d", r.bits().domain(), l));
                for (double s : share[l]) {
                    line.append(String.format(Locale.ROOT, "%9.3f", s));
                }
                System.out.println(line);
            }
        }
    }

    private void writeJson(List<DomainResult> results) {
        ObjectNode root = JSON.createObjectNode();
        root.put("split", split);
        ArrayNode list = root.putArray("domains");
        for (DomainResult r : results) {
            BitsPerByte.Result b = r.bits();
            ObjectNode d = list.addObject();
            d.put("domain", b.domain());
            d.put("documents", b.documents());
            d.put("bytes", b.bytes());
            d.put("tokens", b.tokens());
            d.put("nats", b.nats());
            d.put("bitsPerByte", b.bitsPerByte());
            if (r.cloze() != null) {
                ObjectNode c = d.putObject("cloze");
                c.put("questions", r.cloze().questions());
                c.put("correct", r.cloze().correct());
                c.put("accuracy", r.cloze().accuracy());
                c.put("low95", r.cloze().interval95().low());
                c.put("high95", r.cloze().interval95().high());
                c.put("chance", r.cloze().chance());
            }
            d.set("routingShare", JSON.valueToTree(b.routingShare()));
        }
        Path temp = json.toAbsolutePath().resolveSibling("." + json.getFileName() + ".tmp");
        try {
            JSON.writeValue(temp.toFile(), root);
            Files.move(temp, json, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the original error is the one to report
            }
            throw new UncheckedIOException(json + ": cannot write: " + e.getMessage(), e);
        }
        System.out.println("Wrote " + json);
    }
}
