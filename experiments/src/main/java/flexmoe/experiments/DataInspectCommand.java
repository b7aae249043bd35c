package flexmoe.experiments;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.CorpusReport;
import flexmoe.moe.data.DomainReport;
import flexmoe.moe.data.Split;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Reads a whole corpus and prints documents and bytes per domain and split, and what was skipped. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Check a corpus: domains, documents and bytes per split, skipped documents and why.")
final class DataInspectCommand implements Callable<Integer> {

    @Mixin
    CorpusArgs args;

    @Override
    public Integer call() {
        Corpus corpus = args.open();
        CorpusReport report = corpus.inspect();
        System.out.printf("corpus %s: %d domain(s), %,d documents, %,d bytes (split %s)%n", corpus.dir(),
                report.domains().size(), report.documents(), report.bytes(), corpus.options().splitFractions());
        System.out.printf("%-16s %6s  %-5s %10s %14s%n", "domain", "files", "split", "documents", "bytes");
        for (DomainReport r : report.domains()) {
            for (Split s : Split.values()) {
                System.out.printf("%-16s %6d  %-5s %,10d %,14d%n", r.domain(), r.files(), s.id(),
                        r.split(s).documents(), r.split(s).bytes());
            }
        }
        if (report.skippedTotal() == 0) {
            System.out.println("skipped: none");
        }
        for (DomainReport r : report.domains()) {
            CorpusArgs.printProblems(System.out, "", r);
        }
        return 0;
    }
}
