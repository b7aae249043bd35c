package flexmoe.experiments;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.CorpusOptions;
import flexmoe.moe.data.DomainReport;
import flexmoe.moe.data.SplitFractions;
import java.io.PrintStream;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options that say where a corpus is and how to read it (shared by the data commands). */
final class CorpusArgs {

    @Option(names = "--corpus", required = true, paramLabel = "DIR",
            description = "Corpus directory: one sub-directory per domain holding .txt, .jsonl (field \"text\") or .gz of either.")
    Path corpus;

    @Option(names = "--max-doc-bytes", paramLabel = "N", defaultValue = "" + CorpusOptions.DEFAULT_MAX_DOCUMENT_BYTES,
            description = "Skip (and count) documents larger than this many UTF-8 bytes (default: ${DEFAULT-VALUE}).")
    long maxDocumentBytes;

    @Option(names = "--split-fractions", paramLabel = "TRAIN,VALID,TEST", defaultValue = "0.9,0.05,0.05",
            description = "Fractions of documents in train, valid and test, chosen by a hash of each document's text"
                    + " (default: ${DEFAULT-VALUE}).")
    String splitFractions;

    @Option(names = "--strict", description = "Fail on the first bad document instead of skipping and counting it.")
    boolean strict;

    Corpus open() {
        return Corpus.open(corpus, new CorpusOptions(maxDocumentBytes, SplitFractions.parse(splitFractions), strict));
    }

    /** Skipped documents and ignored files of one domain: a headline, then one indented line per problem. */
    static void printProblems(PrintStream out, String prefix, DomainReport r) {
        if (r.skippedTotal() > 0) {
            out.println(prefix + "domain '" + r.domain() + "': skipped " + r.skippedTotal() + " document(s) ("
                    + r.skipSummary() + ")" + (r.skippedTotal() > r.problems().size() ? "; the first "
                    + r.problems().size() + ":" : ":"));
            for (String p : r.problems()) {
                out.println("  " + p);
            }
        }
        if (!r.ignoredFiles().isEmpty()) {
            out.println(prefix + "domain '" + r.domain() + "': ignored " + r.ignoredFiles().size()
                    + " file(s) that are not .txt, .jsonl, .txt.gz or .jsonl.gz, e.g. " + r.ignoredFiles().getFirst());
        }
    }
}
