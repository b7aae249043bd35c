package flexmoe.experiments.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Which documents of a domain make its byte budget. The budget is shared between the domain's sources as evenly as
 * their sizes allow (water-filling: a source smaller than its share gives all it has, the rest is shared by the
 * others), so one large source cannot crowd out the rest. Within a source, documents are taken in the order of a hash
 * of their text, each one that still fits, so the selection is a spread-out sample (not the first chapters or the
 * oldest speeches), is the same on every run, and changes little when a source gains documents.
 */
final class BudgetSelection {

    /**
     * A candidate document.
     *
     * @param index position in its source (the selection keeps source order)
     * @param bytes UTF-8 bytes of the text
     * @param order sort key for selection: bytes of the text's SHA-256 that the split rule does not use, so selecting a
     *              fraction of a source does not also select a split
     */
    record Candidate(int index, long bytes, long order) {
    }

    private BudgetSelection() {
    }

    /** For each source, the indices of its selected candidates, ascending; total bytes at most {@code budget}. */
    static List<List<Integer>> select(List<List<Candidate>> sources, long budget) {
        int n = sources.size();
        long[] available = sources.stream().mapToLong(s -> s.stream().mapToLong(Candidate::bytes).sum()).toArray();
        List<Integer> smallestFirst = IntStream.range(0, n).boxed()
                .sorted(Comparator.<Integer>comparingLong(k -> available[k]).thenComparing(k -> k))
                .toList();
        List<List<Integer>> selected = new ArrayList<>(java.util.Collections.nCopies(n, List.<Integer>of()));
        long remaining = budget;
        int left = n;
        for (int k : smallestFirst) {
            long share = remaining / left--;
            List<Candidate> byOrder = new ArrayList<>(sources.get(k));
            byOrder.sort(Comparator.comparingLong(Candidate::order).thenComparingInt(Candidate::index));
            List<Integer> taken = new ArrayList<>();
            long used = 0;
            for (Candidate c : byOrder) {
                if (used + c.bytes() <= share) {
                    taken.add(c.index());
                    used += c.bytes();
                }
            }
            taken.sort(null);
            selected.set(k, taken);
            remaining -= used;
        }
        return selected;
    }
}
