package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BpeTrainerTest {

    private static List<String> corpus(long seed, int documents) {
        return Arrays.asList(new SyntheticText(seed).documents(documents));
    }

    @Test
    void sameDocumentsGiveTheSameBytesWhateverTheirOrder() {
        List<String> docs = corpus(1, 150);
        BpeTokenizer first = new BpeTrainer(800).train(docs);
        BpeTokenizer second = new BpeTrainer(800).train(docs);
        List<String> shuffled = new ArrayList<>(docs);
        Collections.shuffle(shuffled, new Random(2));
        BpeTokenizer third = new BpeTrainer(800).train(shuffled.stream());
        assertThat(second.toJson()).isEqualTo(first.toJson());
        assertThat(third.toJson()).isEqualTo(first.toJson());
        assertThat(third.fingerprint()).isEqualTo(first.fingerprint());
    }

    @Test
    void vocabularyHasExactlyTheSizeAskedForWithEosLast() {
        List<String> docs = corpus(3, 150);
        for (int size : new int[] {257, 300, 1000, 2048}) {
            BpeTokenizer t = new BpeTrainer(size).train(docs);
            assertThat(t.vocabSize()).isEqualTo(size);
            assertThat(t.eosId()).isEqualTo(size - 1);
            assertThat(t.token(size - 1)).isEqualTo(BpeTokenizer.EOS);
            for (int b = 0; b < 256; b++) {
                assertThat(t.token(b)).isEqualTo(String.valueOf(ByteLevel.charOf(b)));
            }
        }
    }

    @Test
    void theIncrementalTrainerLearnsWhatRecountingLearnsOnText() {
        List<String> docs = corpus(4, 40);
        BpeTokenizer t = new BpeTrainer(600).train(docs);
        assertThat(merges(t)).isEqualTo(Reference.trainMerges(docs, 600));
    }

    @Property(tries = 60)
    void theIncrementalTrainerLearnsWhatRecountingLearns(@ForAll("tinyCorpora") List<String> docs,
                                                         @ForAll @IntRange(min = 257, max = 330) int vocabSize) {
        // Few letters, many repeats: ties everywhere, overlapping pairs (aaaa), merges spelling the same token twice.
        if (docs.stream().allMatch(String::isEmpty)) {
            return;
        }
        BpeTokenizer t = new BpeTrainer(vocabSize).train(docs);
        assertThat(merges(t)).isEqualTo(Reference.trainMerges(docs, vocabSize));
    }

    @Provide
    Arbitrary<List<String>> tinyCorpora() {
        Arbitrary<String> doc = Arbitraries.strings().withChars("aab b\n'sé").ofMaxLength(60);
        return doc.list().ofMinSize(1).ofMaxSize(12);
    }

    private static List<String> merges(BpeTokenizer t) {
        List<String> merges = new ArrayList<>();
        for (int r = 0; r < t.mergeCount(); r++) {
            int[] m = t.merge(r);
            merges.add(t.token(m[0]) + " " + t.token(m[1]));
        }
        return merges;
    }

    @Test
    void theMostFrequentPairIsMergedFirstAndTiesGoToTheSmallerBytes() {
        // Pairs of "xy xy xy" + "cd cd ab ab": (x,y) 3; (Ġ,x), (c,d), (Ġ,a), (a,b) 2; (Ġ,c) 1.
        assertThat(merges(new BpeTrainer(256 + 1 + 1).train(List.of("xy xy xy", "cd cd ab ab")))).containsExactly("x y");
        // Equal counts: the left token's bytes decide, a < c.
        assertThat(merges(new BpeTrainer(256 + 1 + 1).train(List.of("cd", "ab")))).containsExactly("a b");
        // "cd cd ab ab": (c,d), (Ġ,a), (a,b) all 2, and Ġ (0x20) sorts first; then (c,d) and (Ġa,b) tie at 2 and
        // the left token " a" (0x20 0x61) sorts before "c" (0x63).
        assertThat(merges(new BpeTrainer(256 + 2 + 1).train(List.of("cd cd ab ab")))).containsExactly("Ġ a", "Ġa b");
        // Equal counts and equal left tokens: the right token decides.
        assertThat(merges(new BpeTrainer(256 + 1 + 1).train(List.of("ba", "bb")))).containsExactly("b a");
    }

    @Test
    void aSmallCorpusStopsEarlyWhenEveryPieceIsOneToken() {
        BpeTokenizer t = new BpeTrainer(4096).train(List.of("abc abc", "xyz"));
        assertThat(t.vocabSize()).isLessThan(4096);
        for (String piece : List.of("abc", " abc", "xyz")) {
            assertThat(t.encode(piece)).hasSize(1);
        }
        assertThat(t.eosId()).isEqualTo(t.vocabSize() - 1);
    }

    @Test
    void reportsProgress() {
        List<String> phases = new ArrayList<>();
        long[] last = new long[2];
        new BpeTrainer(400, (phase, done, total) -> {
            if (phases.isEmpty() || !phases.getLast().equals(phase)) {
                phases.add(phase);
            }
            last[0] = done;
            last[1] = total;
        }).train(corpus(5, 300));
        assertThat(phases).containsExactly("reading", "merging");
        assertThat(last).containsExactly(400, 400);
    }

    @Test
    void piecesCountedByTheCallerTrainTheSameTokenizer() {
        List<String> docs = corpus(6, 50);
        BpeTrainer.PieceCounts counts = new BpeTrainer.PieceCounts();
        docs.forEach(counts::add);
        assertThat(counts.documents()).isEqualTo(50);
        assertThat(counts.chars()).isEqualTo(docs.stream().mapToLong(String::length).sum());
        assertThat(new BpeTrainer(500).train(counts).toJson()).isEqualTo(new BpeTrainer(500).train(docs).toJson());
    }

    @Test
    void badArgumentsAreClearErrors() {
        assertThatThrownBy(() -> new BpeTrainer(256))
                .hasMessage("vocabulary size 256 is too small: it needs at least 257 (256 byte tokens and <|endoftext|>)");
        assertThatThrownBy(() -> new BpeTrainer(300).train(Stream.of("", "")))
                .hasMessage("no text to train the tokenizer on (2 documents, all empty)");
        assertThatThrownBy(() -> new BpeTrainer(300).train(List.of()))
                .hasMessage("no text to train the tokenizer on (0 documents, all empty)");
    }
}
