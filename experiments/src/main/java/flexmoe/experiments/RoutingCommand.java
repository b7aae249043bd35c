package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.artifact.ComposedModel;
import flexmoe.moe.artifact.RoutingStats;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.Packer;
import flexmoe.moe.data.Split;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.TokenBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flexmoe routing}: FlexOlmo's routing analysis on packed sequences of each domain. */
@Command(name = "routing", mixinStandardHelpOptions = true,
        description = {"FlexOlmo's routing analysis: per layer and input domain, the share of tokens whose top-k"
                + " includes each expert (uniform routing gives k / experts).",
                "Reads the packed sequences of a split (flexmoe data pack) for each domain; they must have been packed"
                + " with the model's tokenizer."})
final class RoutingCommand implements Callable<Integer> {

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--packed", required = true, paramLabel = "DIR",
            description = "A folder of packed files <domain>.<split>.bin (flexmoe data pack --out).")
    Path packed;

    @Option(names = "--split", defaultValue = "test", paramLabel = "SPLIT",
            description = "train, valid or test (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--domains", split = ",", paramLabel = "NAME",
            description = "Input domains to route (default: every domain with a file for the split).")
    List<String> domains;

    @Option(names = "--max-sequences", defaultValue = "64", paramLabel = "N",
            description = "Sequences per domain, from the start of its file (default: ${DEFAULT-VALUE}).")
    int maxSequences;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "B",
            description = "Sequences per forward (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--csv", paramLabel = "FILE",
            description = "Also write the statistics as CSV: layer,domain,expert,tokens,routed,share.")
    Path csv;


    @Override
    public Integer call() throws IOException {
        if (maxSequences < 1 || batch < 1) {
            throw new IllegalArgumentException("--max-sequences and --batch: expected at least 1, got "
                    + maxSequences + " and " + batch);
        }
        Split s = Split.of(split);
        ComposedModel composed = modelArgs.composed();
        List<Path> files = files(s);
        RoutingStats stats = RoutingStats.of(composed);
        int vocab = composed.config().vocabSize();
        try (Backend backend = modelArgs.backend()) {
            FlexOlmoModel model = new FlexOlmoModel(composed.parameters(), backend);
            for (Path f : files) {
                String domain = f.getFileName().toString().replace("." + s.id() + ".bin", "");
                PackedSequences ps = PackedSequences.load(f, vocab, composed.tokenizer());
                int seq = ps.seqLen();
                if (seq > composed.config().maxSeqLen()) {
                    throw new IllegalArgumentException(f + ": sequences of " + seq + " tokens, longer than the"
                            + " model's maxSeqLen " + composed.config().maxSeqLen());
                }
                int n = Math.min(maxSequences, ps.sequenceCount());
                if (n == 0) {
                    throw new IllegalArgumentException(f + ": holds no sequence");
                }
                for (int i = 0; i < n; i += batch) {
                    int b = Math.min(batch, n - i);
                    int[] inputs = new int[b * seq];
                    for (int j = 0; j < b; j++) {
                        System.arraycopy(ps.tokens(), ps.offset(i + j), inputs, j * seq, seq);
                    }
                    model.forward(new TokenBatch(inputs, null, b, seq));
                    stats.add(domain, model);
                }
            }
        }
        System.out.print(stats.table());
        if (csv != null) {
            stats.writeCsv(csv);
            System.out.println("wrote " + csv);
        }
        return 0;
    }

    private List<Path> files(Split s) throws IOException {
        if (!Files.isDirectory(packed)) {
            throw new IllegalArgumentException("--packed: " + packed + " is not a directory");
        }
        List<Path> files = new ArrayList<>();
        if (domains != null) {
            for (String d : domains) {
                Path f = packed.resolve(Packer.fileName(d, s));
                if (!Files.isRegularFile(f)) {
                    throw new IllegalArgumentException("--domains: " + f + " does not exist (flexmoe data pack writes"
                            + " <domain>.<split>.bin)");
                }
                files.add(f);
            }
            return files;
        }
        try (Stream<Path> list = Files.list(packed)) {
            list.filter(f -> f.getFileName().toString().endsWith("." + s.id() + ".bin")).sorted().forEach(files::add);
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("--packed: no *." + s.id() + ".bin files in " + packed
                    + " (flexmoe data pack writes them)");
        }
        return files;
    }
}
