package flexmoe.experiments;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.CorpusException;
import flexmoe.moe.data.Packer;
import flexmoe.moe.data.Split;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Tokenizes a corpus and packs each domain and split into fixed-length training sequences. */
@Command(name = "pack", mixinStandardHelpOptions = true,
        description = {"Tokenize a corpus and pack each domain's train / valid / test documents into sequences of"
                + " seq-len + 1 tokens (documents end with EOS; a last partial sequence is dropped).",
                "Writes OUT/<domain>.<split>.bin and OUT/<domain>.pack.json; nothing is written unless everything packs."})
final class DataPackCommand implements Callable<Integer> {

    /** How often progress lines are printed while packing. */
    private static final long PROGRESS_EVERY_NANOS = 5_000_000_000L;

    @Mixin
    CorpusArgs args;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The tokenizer.json to encode with.")
    Path tokenizerFile;

    @Option(names = "--seq-len", required = true, paramLabel = "N",
            description = "Model context length: each sequence stores N + 1 tokens (inputs and shifted targets).")
    int seqLen;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--domains", split = ",", paramLabel = "DOMAIN", description = "Domains to pack (default: all).")
    List<String> domains;

    @Option(names = "--splits", split = ",", paramLabel = "SPLIT", defaultValue = "train,valid,test",
            description = "Splits to write (default: ${DEFAULT-VALUE}).")
    List<String> splits;

    private final Function<Path, Tokenizer> tokenizerLoader;

    DataPackCommand() {
        this(DataPackCommand::loadTokenizer);
    }

    /** For tests: packs with a tokenizer from {@code tokenizerLoader} instead of a tokenizer.json. */
    DataPackCommand(Function<Path, Tokenizer> tokenizerLoader) {
        this.tokenizerLoader = tokenizerLoader;
    }

    /** Loads the tokenizer saved as a Hugging Face tokenizer.json. */
    static Tokenizer loadTokenizer(Path file) {
        return BpeTokenizer.load(file);
    }

    @Override
    public Integer call() {
        Set<Split> splitSet = EnumSet.noneOf(Split.class);
        for (String s : splits) {
            splitSet.add(Split.of(s.strip()));
        }
        Corpus corpus = args.open();
        List<String> names = domains == null ? corpus.domains() : domains.stream().map(String::strip).toList();
        corpus.requireDomains(names);
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new CorpusException("tokenizer file " + tokenizerFile + " does not exist");
        }
        Tokenizer tokenizer = tokenizerLoader.apply(tokenizerFile);
        TokenizerFingerprint fingerprint = new TokenizerFingerprint(tokenizer.fingerprint());

        long start = System.nanoTime();
        long[] lastPrint = {start};
        List<Packer.DomainResult> results = new Packer(tokenizer, fingerprint, seqLen).pack(corpus, names, splitSet, out,
                status -> {
                    long now = System.nanoTime();
                    if (now - lastPrint[0] >= PROGRESS_EVERY_NANOS) {
                        lastPrint[0] = now;
                        System.err.printf("flexmoe: packing %s: %.0f%% of %,d file bytes, %,d documents, %,d tokens,"
                                        + " %.1f s%n", status.domain(),
                                100.0 * status.fileBytesRead() / Math.max(1, status.fileBytesTotal()),
                                status.fileBytesTotal(), status.documents(), status.tokens(), (now - start) / 1e9);
                    }
                });

        for (Packer.DomainResult r : results) {
            CorpusArgs.printProblems(System.err, "flexmoe: warning: ", r.corpus());
        }
        System.out.printf("packed %d domain(s) into %s: seq-len %d (%d tokens per sequence), tokenizer %s (vocab %d),"
                        + " %.1f s%n", results.size(), out, seqLen, seqLen + 1, fingerprint.shortForm(),
                tokenizer.vocabSize(), (System.nanoTime() - start) / 1e9);
        System.out.printf("%-16s %-5s %10s %14s %10s %8s  %s%n", "domain", "split", "documents", "tokens", "sequences",
                "dropped", "file");
        for (Packer.DomainResult r : results) {
            for (Packer.SplitResult s : r.splits()) {
                System.out.printf("%-16s %-5s %,10d %,14d %,10d %,8d  %s%n", r.domain(), s.split().id(), s.documents(),
                        s.tokens(), s.sequences(), s.droppedTokens(), s.file());
            }
        }
        return 0;
    }
}
