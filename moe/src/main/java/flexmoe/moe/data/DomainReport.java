package flexmoe.moe.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What reading one domain found: documents and bytes per split, what was skipped and why.
 *
 * @param domain       the domain name
 * @param files        number of corpus files read (.txt, .jsonl and their .gz)
 * @param ignoredFiles files in the domain directory with another extension, relative to the corpus directory
 * @param splits       documents and UTF-8 bytes per split (every split present, possibly with zero documents)
 * @param skipped      skipped documents per reason (only reasons that occurred)
 * @param problems     the first {@value #MAX_PROBLEMS} problems, one line each, naming file and line
 */
public record DomainReport(String domain, int files, List<String> ignoredFiles, Map<Split, SplitTotals> splits,
                           Map<SkipReason, Long> skipped, List<String> problems) {

    /** How many problem locations a report keeps: enough to find the pattern, not a flood. */
    public static final int MAX_PROBLEMS = 5;

    /** Documents and their UTF-8 bytes in one split. */
    public record SplitTotals(long documents, long bytes) {
    }

    public DomainReport {
        ignoredFiles = List.copyOf(ignoredFiles);
        splits = Collections.unmodifiableMap(new EnumMap<>(splits));
        skipped = skipped.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(skipped));
        problems = List.copyOf(problems);
    }

    /** Documents read, all splits. */
    public long documents() {
        return splits.values().stream().mapToLong(SplitTotals::documents).sum();
    }

    /** UTF-8 bytes of the documents read, all splits. */
    public long bytes() {
        return splits.values().stream().mapToLong(SplitTotals::bytes).sum();
    }

    public SplitTotals split(Split split) {
        return splits.get(split);
    }

    /** Documents skipped, all reasons. */
    public long skippedTotal() {
        return skipped.values().stream().mapToLong(Long::longValue).sum();
    }

    /** E.g. {@code 2 invalid UTF-8, 1 empty document}; empty when nothing was skipped. */
    public String skipSummary() {
        return skipped.entrySet().stream().map(e -> e.getValue() + " " + e.getKey().description())
                .collect(Collectors.joining(", "));
    }

    /** Accumulates a report while a domain is read. */
    static final class Tally {
        private final String domain;
        private final int files;
        private final List<String> ignoredFiles;
        private final long[] documents = new long[Split.values().length];
        private final long[] bytes = new long[Split.values().length];
        private final long[] skipped = new long[SkipReason.values().length];
        private final List<String> problems = new ArrayList<>();

        Tally(String domain, int files, List<String> ignoredFiles) {
            this.domain = domain;
            this.files = files;
            this.ignoredFiles = ignoredFiles;
        }

        void document(Split split, long utf8Bytes) {
            documents[split.ordinal()]++;
            bytes[split.ordinal()] += utf8Bytes;
        }

        void skip(SkipReason reason, String problem) {
            skipped[reason.ordinal()]++;
            if (problems.size() < MAX_PROBLEMS) {
                problems.add(problem);
            }
        }

        DomainReport report() {
            Map<Split, SplitTotals> s = new EnumMap<>(Split.class);
            for (Split split : Split.values()) {
                s.put(split, new SplitTotals(documents[split.ordinal()], bytes[split.ordinal()]));
            }
            Map<SkipReason, Long> k = new EnumMap<>(SkipReason.class);
            for (SkipReason r : SkipReason.values()) {
                if (skipped[r.ordinal()] > 0) {
                    k.put(r, skipped[r.ordinal()]);
                }
            }
            return new DomainReport(domain, files, ignoredFiles, s, k, problems);
        }
    }
}
