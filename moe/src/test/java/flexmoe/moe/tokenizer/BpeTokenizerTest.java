package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class BpeTokenizerTest {

    private final BpeTokenizer tokenizer = Reference.tokenizer();

    @Property(tries = 2000)
    void roundTripIsLosslessOnValidUnicode(@ForAll("unicodeText") String text) {
        int[] ids = tokenizer.encode(text);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
        assertThat(Arrays.stream(ids).allMatch(id -> id >= 0 && id < tokenizer.vocabSize() && id != tokenizer.eosId())).isTrue();
    }

    @Property(tries = 1000)
    void encodesAsGpt2sAlgorithmDoes(@ForAll("unicodeText") String text) {
        assertThat(tokenizer.encode(text)).isEqualTo(Reference.encode(tokenizer, text));
    }

    @Provide
    Arbitrary<String> unicodeText() {
        return Generators.unicodeText();
    }

    @Property(tries = 300)
    void heapMergeGivesTheScanMergeResult(@ForAll("byteStrings") byte[] bytes) {
        int[] byScan = symbols(bytes);
        int n = tokenizer.mergeByScan(byScan, byScan.length);
        BpeTokenizer.EncodeState st = new BpeTokenizer.EncodeState();
        int[] initial = symbols(bytes);
        System.arraycopy(initial, 0, st.symbols(initial.length), 0, initial.length);
        int m = tokenizer.mergeByHeap(st, initial.length);
        assertThat(Arrays.copyOf(st.sym, m)).isEqualTo(Arrays.copyOf(byScan, n));
    }

    @Provide
    Arbitrary<byte[]> byteStrings() {
        // Bytes of synthetic text slices (merges apply often) and random bytes (they rarely do).
        String text = new SyntheticText(3).mixed(20_000);
        byte[] all = text.getBytes(StandardCharsets.UTF_8);
        Arbitrary<byte[]> slices = Arbitraries.integers().between(0, all.length - 400)
                .flatMap(from -> Arbitraries.integers().between(1, 400).map(len -> Arrays.copyOfRange(all, from, from + len)));
        return Arbitraries.oneOf(slices, Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300));
    }

    private int[] symbols(byte[] bytes) {
        int[] sym = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            sym[i] = tokenizer.id(String.valueOf(ByteLevel.charOf(bytes[i] & 0xFF)));
        }
        return sym;
    }

    @Test
    void longPiecesTakeTheHeapPathAndRoundTrip() {
        String spaces = " ".repeat(10_000) + "x";
        String cjk = "数据集模型東京".repeat(2_000);
        String punct = "=-".repeat(5_000);
        for (String text : List.of(spaces, cjk, punct, spaces + cjk + punct)) {
            int[] ids = tokenizer.encode(text);
            assertThat(tokenizer.decode(ids)).isEqualTo(text);
            assertThat(ids).isEqualTo(Reference.encode(tokenizer, text));
        }
    }

    @Test
    void manyDistinctPiecesOverflowTheCacheWithoutChangingResults() {
        // More distinct pieces than the per-thread cache holds, so it is cleared several times.
        SplittableRandom random = new SplittableRandom(11);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 120_000; i++) {
            sb.append(' ').append(Integer.toString(random.nextInt(Integer.MAX_VALUE), 36));
        }
        String text = sb.toString();
        assertThat(tokenizer.encode(text)).isEqualTo(Reference.encode(tokenizer, text));
        assertThat(tokenizer.encode(text)).isEqualTo(tokenizer.encode(text));
    }

    @Test
    void threadsSharingATokenizerGetTheSameIds() throws Exception {
        String[] texts = new String[16];
        int[][] expected = new int[texts.length][];
        SyntheticText gen = new SyntheticText(5);
        for (int i = 0; i < texts.length; i++) {
            texts[i] = gen.mixed(20_000);
            expected[i] = Reference.encode(tokenizer, texts[i]);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<int[]>> results = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                for (String text : texts) {
                    results.add(pool.submit(() -> tokenizer.encode(text)));
                }
            }
            for (int i = 0; i < results.size(); i++) {
                assertThat(results.get(i).get()).isEqualTo(expected[i % texts.length]);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void theEosStringInTextIsDataNotTheEosToken() {
        String text = "end of one<|endoftext|>start of next";
        int[] ids = tokenizer.encode(text);
        assertThat(ids).doesNotContain(tokenizer.eosId());
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
        assertThat(tokenizer.token(tokenizer.eosId())).isEqualTo(BpeTokenizer.EOS);
        assertThat(tokenizer.decode(new int[] {tokenizer.eosId()})).isEqualTo(BpeTokenizer.EOS);
    }

    @Test
    void unpairedSurrogatesEncodeAsTheReplacementCharacter() {
        assertThat(tokenizer.decode(tokenizer.encode("a\ud800b"))).isEqualTo("a\ufffdb");
        assertThat(tokenizer.decode(tokenizer.encode("\udc00"))).isEqualTo("\ufffd");
        assertThat(tokenizer.encode("x\ud83dy")).isEqualTo(tokenizer.encode("x\ufffdy"));
    }

    @Test
    void aDecodeThatCutsACharacterGivesReplacementCharacters() {
        String text = "€";
        int[] ids = tokenizer.encode(text);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertThat(tokenizer.decodeBytes(ids, 0, ids.length)).isEqualTo(bytes);
        // The three bytes one token each: any strict sub-range is invalid UTF-8.
        int[] byBytes = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            byBytes[i] = tokenizer.id(String.valueOf(ByteLevel.charOf(bytes[i] & 0xFF)));
        }
        assertThat(tokenizer.decode(byBytes)).isEqualTo("€");
        assertThat(tokenizer.decode(byBytes, 0, 2)).isEqualTo("\ufffd");
        assertThat(tokenizer.decode(byBytes, 1, 3)).isEqualTo("\ufffd\ufffd");
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        assertThatThrownBy(() -> tokenizer.decode(new int[] {1, tokenizer.vocabSize()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("decode: id " + tokenizer.vocabSize() + " at index 1 is outside the vocabulary [0, "
                        + tokenizer.vocabSize() + ")");
        assertThatThrownBy(() -> tokenizer.decode(new int[] {-1})).hasMessageContaining("id -1 at index 0");
    }

    @Test
    void emptyTextHasNoTokens() {
        assertThat(tokenizer.encode("")).isEmpty();
        assertThat(tokenizer.decode(new int[0])).isEmpty();
    }

    @Test
    void frequentWordsBecomeSingleTokens() {
        // The most frequent synthetic word with its leading space must have been learnt as one token.
        SyntheticText gen = new SyntheticText(7);
        String sample = gen.english(50_000);
        java.util.Map<String, Integer> freq = new java.util.HashMap<>();
        for (String piece : PreTokenizer.split(sample)) {
            freq.merge(piece, 1, Integer::sum);
        }
        String top = freq.entrySet().stream().filter(e -> e.getKey().startsWith(" ") && e.getKey().length() > 2)
                .max(java.util.Map.Entry.comparingByValue()).orElseThrow().getKey();
        assertThat(tokenizer.encode(top)).hasSize(1);
        assertThat(tokenizer.encode(sample).length).isLessThan(sample.length() / 2);
    }
}
