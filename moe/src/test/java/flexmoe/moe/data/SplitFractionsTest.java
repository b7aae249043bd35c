package flexmoe.moe.data;

import static flexmoe.moe.data.CorpusFiles.jsonl;
import static flexmoe.moe.data.CorpusFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitFractionsTest {

    @TempDir
    Path dir;

    private static List<String> randomTexts(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + rng.nextInt(40);
            for (int j = 0; j < len; j++) {
                sb.append((char) ('a' + rng.nextInt(26)));
            }
            texts.add(sb.append(' ').append(i).toString());
        }
        return texts;
    }

    private static Map<String, Split> splitsOf(Corpus corpus, String domain) {
        Map<String, Split> m = new HashMap<>();
        corpus.forEachDocument(domain, (split, doc) -> m.put(doc.text(), split));
        return m;
    }

    @Test
    void fractionsRoughlyHoldOnGeneratedText() {
        SplitFractions f = new SplitFractions(0.8, 0.15, 0.05);
        int n = 40_000;
        int[] counts = new int[3];
        for (String t : randomTexts(1, n)) {
            counts[f.splitOf(t).ordinal()]++;
        }
        double[] p = {f.train(), f.valid(), f.test()};
        for (Split s : Split.values()) {
            double expected = n * p[s.ordinal()];
            double sd = Math.sqrt(n * p[s.ordinal()] * (1 - p[s.ordinal()]));
            assertThat((double) counts[s.ordinal()]).as(s.id()).isCloseTo(expected,
                    org.assertj.core.data.Offset.offset(5 * sd));
        }
    }

    @Test
    void positionIsUniformEnoughInItsLowBuckets() {
        // ten equal buckets of [0,1): a chi-square over 20 000 texts stays far below the 99.9% quantile (27.9, 9 dof)
        int n = 20_000;
        int[] buckets = new int[10];
        for (String t : randomTexts(2, n)) {
            buckets[(int) (SplitFractions.position(t.getBytes(java.nio.charset.StandardCharsets.UTF_8)) * 10)]++;
        }
        double chi2 = 0;
        for (int b : buckets) {
            chi2 += (b - n / 10.0) * (b - n / 10.0) / (n / 10.0);
        }
        assertThat(chi2).isLessThan(27.9);
    }

    @Test
    void splitDependsOnTheTextOnly() {
        SplitFractions f = SplitFractions.DEFAULT;
        for (String t : randomTexts(3, 500)) {
            assertThat(f.splitOf(t)).isEqualTo(f.splitOf(new String(t.toCharArray())));
        }
    }

    @Test
    void addingDocumentsAndReorderingFilesMovesNoExistingDocument() {
        List<String> texts = randomTexts(4, 2000);
        jsonl(dir, "before/a.jsonl", texts.subList(0, 1000));
        jsonl(dir, "before/b.jsonl", texts.subList(1000, 2000));
        // the same documents in other files, in another order, mixed with 1000 new ones
        List<String> shuffled = new ArrayList<>(texts);
        java.util.Collections.shuffle(shuffled, new java.util.Random(5));
        List<String> more = new ArrayList<>(shuffled);
        more.addAll(500, randomTexts(6, 1000));
        jsonl(dir, "after/0-new-first.jsonl", more.subList(0, 1500));
        for (int i = 1500; i < more.size(); i++) {
            write(dir, "after/docs/" + i + ".txt", more.get(i));
        }

        Corpus corpus = Corpus.open(dir, CorpusOptions.defaults().withSplitFractions(new SplitFractions(0.6, 0.2, 0.2)));
        Map<String, Split> before = splitsOf(corpus, "before");
        Map<String, Split> after = splitsOf(corpus, "after");

        assertThat(before).hasSize(2000);
        assertThat(after).hasSize(3000);
        for (String t : texts) {
            assertThat(after.get(t)).as(t).isEqualTo(before.get(t));
        }
        assertThat(before.values()).contains(Split.TRAIN, Split.VALID, Split.TEST);
    }

    @Test
    void identicalDuplicatesLandInTheSameSplit() {
        List<String> texts = randomTexts(7, 300);
        jsonl(dir, "d/a.jsonl", texts);
        jsonl(dir, "d/b.jsonl", texts.reversed());
        for (int i = 0; i < 50; i++) {
            write(dir, "d/copies/" + i + ".txt", texts.get(i));
        }

        Map<String, List<Split>> seen = new HashMap<>();
        Corpus.open(dir).forEachDocument("d", (split, doc) ->
                seen.computeIfAbsent(doc.text(), k -> new ArrayList<>()).add(split));

        assertThat(seen).hasSize(300);
        assertThat(seen.values()).allSatisfy(splits -> assertThat(splits).containsOnly(splits.getFirst()));
    }

    @Test
    void degenerateFractionsPutEverythingInOneSplit() {
        SplitFractions allTrain = new SplitFractions(1, 0, 0);
        SplitFractions allTest = new SplitFractions(0, 0, 1);
        for (String t : randomTexts(8, 200)) {
            assertThat(allTrain.splitOf(t)).isEqualTo(Split.TRAIN);
            assertThat(allTest.splitOf(t)).isEqualTo(Split.TEST);
        }
    }

    @Test
    void growingValidOnlyMovesDocumentsOutOfTest() {
        SplitFractions small = new SplitFractions(0.8, 0.1, 0.1);
        SplitFractions larger = new SplitFractions(0.8, 0.15, 0.05);
        for (String t : randomTexts(9, 2000)) {
            Split a = small.splitOf(t);
            Split b = larger.splitOf(t);
            if (a != b) {
                assertThat(a).isEqualTo(Split.TEST);
                assertThat(b).isEqualTo(Split.VALID);
            }
        }
    }

    @Test
    void parseAndValidate() {
        assertThat(SplitFractions.parse("0.9, 0.05,0.05")).isEqualTo(new SplitFractions(0.9, 0.05, 0.05));
        assertThatThrownBy(() -> SplitFractions.parse("0.9,0.1")).hasMessageStartingWith(
                "split fractions: expected three numbers train,valid,test");
        assertThatThrownBy(() -> SplitFractions.parse("0.9,x,0.1")).hasMessage(
                "split fractions: 'x' is not a number (in '0.9,x,0.1')");
        assertThatThrownBy(() -> new SplitFractions(0.9, 0.2, 0.1)).hasMessage(
                "split fractions must add up to 1, got train 0.9, valid 0.2, test 0.1");
        assertThatThrownBy(() -> new SplitFractions(1.2, -0.1, -0.1)).hasMessageStartingWith(
                "split fractions must each be in [0, 1]");
        assertThatThrownBy(() -> new SplitFractions(Double.NaN, 0.5, 0.5)).hasMessageStartingWith(
                "split fractions must each be in [0, 1]");
        assertThat(Split.of("valid")).isEqualTo(Split.VALID);
        assertThatThrownBy(() -> Split.of("dev")).hasMessage("unknown split 'dev': expected one of train, valid, test");
    }
}
