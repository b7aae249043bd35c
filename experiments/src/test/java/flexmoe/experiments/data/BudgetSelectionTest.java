package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BudgetSelectionTest {

    private static List<BudgetSelection.Candidate> source(SplittableRandom rng, int documents, int maxBytes) {
        List<BudgetSelection.Candidate> c = new ArrayList<>();
        for (int k = 0; k < documents; k++) {
            c.add(new BudgetSelection.Candidate(k, 1 + rng.nextInt(maxBytes), rng.nextLong()));
        }
        return c;
    }

    private static long bytes(List<BudgetSelection.Candidate> source, List<Integer> picked) {
        return picked.stream().mapToLong(k -> source.get(k).bytes()).sum();
    }

    @Test
    void aSmallSourceGivesAllAndTheOthersShareTheRest() {
        SplittableRandom rng = new SplittableRandom(7);
        List<BudgetSelection.Candidate> small = source(rng, 10, 100);
        List<BudgetSelection.Candidate> large = source(rng, 1000, 100);
        List<BudgetSelection.Candidate> medium = source(rng, 300, 100);
        long smallBytes = small.stream().mapToLong(BudgetSelection.Candidate::bytes).sum();
        long budget = 20_000;
        List<List<Integer>> picked = BudgetSelection.select(List.of(small, large, medium), budget);

        assertThat(picked.get(0)).hasSize(small.size());
        long each = (budget - smallBytes) / 2;
        // Greedy filling leaves at most one document's size (100 bytes) unused per source.
        assertThat(bytes(medium, picked.get(2))).isBetween(each - 100, each);
        long total = smallBytes + bytes(large, picked.get(1)) + bytes(medium, picked.get(2));
        assertThat(total).isBetween(budget - 200, budget);
    }

    @Test
    void selectionIsDeterministicSortedAndWithinBudget() {
        List<List<BudgetSelection.Candidate>> sources = List.of(source(new SplittableRandom(1), 500, 5000),
                source(new SplittableRandom(2), 50, 20_000));
        List<List<Integer>> first = BudgetSelection.select(sources, 300_000);
        assertThat(BudgetSelection.select(sources, 300_000)).isEqualTo(first);
        for (List<Integer> picked : first) {
            assertThat(picked).isSorted().doesNotHaveDuplicates();
        }
        assertThat(bytes(sources.get(0), first.get(0)) + bytes(sources.get(1), first.get(1))).isLessThanOrEqualTo(300_000);
    }

    @Test
    void aBudgetAboveEverythingTakesEverything() {
        List<BudgetSelection.Candidate> s = source(new SplittableRandom(3), 40, 100);
        assertThat(BudgetSelection.select(List.of(s), Long.MAX_VALUE / 4).getFirst()).hasSize(40);
    }
}
