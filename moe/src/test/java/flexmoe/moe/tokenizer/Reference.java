package flexmoe.moe.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Slow, obviously-correct versions of encoding and training, written from the definitions (GPT-2's {@code bpe()} in
 * Python, and "count every pair, merge the best" training), that the fast ones are tested against.
 */
final class Reference {

    private static BpeTokenizer shared;

    private Reference() {
    }

    /** A tokenizer trained once on mixed synthetic text (vocab 1200), shared by the tests. */
    static synchronized BpeTokenizer tokenizer() {
        if (shared == null) {
            SyntheticText gen = new SyntheticText(7);
            List<String> docs = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                docs.add(i % 2 == 0 ? gen.english(4000) : gen.mixed(4000));
            }
            shared = new BpeTrainer(1200).train(docs);
        }
        return shared;
    }

    /** GPT-2's algorithm: per regex piece, merge every occurrence of the lowest-ranked pair until none is left. */
    static int[] encode(BpeTokenizer t, String text) {
        Map<String, Integer> ranks = new HashMap<>();
        for (int r = 0; r < t.mergeCount(); r++) {
            int[] m = t.merge(r);
            ranks.putIfAbsent(t.token(m[0]) + " " + t.token(m[1]), r);
        }
        List<Integer> ids = new ArrayList<>();
        for (String piece : PreTokenizer.splitWithRegex(text)) {
            List<String> word = new ArrayList<>();
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                word.add(String.valueOf(ByteLevel.charOf(b & 0xFF)));
            }
            while (word.size() > 1) {
                String best = null;
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < word.size(); i++) {
                    Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
                    if (r != null && r < bestRank) {
                        bestRank = r;
                        best = word.get(i) + " " + word.get(i + 1);
                    }
                }
                if (best == null) {
                    break;
                }
                String first = best.substring(0, best.indexOf(' '));
                String second = best.substring(best.indexOf(' ') + 1);
                List<String> merged = new ArrayList<>();
                for (int i = 0; i < word.size(); ) {
                    if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                        merged.add(first + second);
                        i += 2;
                    } else {
                        merged.add(word.get(i++));
                    }
                }
                word = merged;
            }
            for (String token : word) {
                ids.add(t.id(token));
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Training by recounting every pair of every word at every step, with the documented tie rule; returns the
     * merges as token-string pairs. Stops at {@code vocabSize - 1} tokens (the EOS is the last) or when nothing is left.
     */
    static List<String> trainMerges(List<String> documents, int vocabSize) {
        Map<String, Integer> wordCounts = new HashMap<>();
        for (String doc : documents) {
            for (String piece : PreTokenizer.splitWithRegex(doc)) {
                wordCounts.merge(piece, 1, Integer::sum);
            }
        }
        List<List<byte[]>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        wordCounts.forEach((piece, count) -> {
            List<byte[]> symbols = new ArrayList<>();
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                symbols.add(new byte[] {b});
            }
            words.add(symbols);
            counts.add(count);
        });
        java.util.Set<String> vocab = new java.util.HashSet<>();
        for (int b = 0; b < 256; b++) {
            vocab.add(ByteLevel.encode(new byte[] {(byte) b}));
        }
        List<String> merges = new ArrayList<>();
        while (vocab.size() < vocabSize - 1) {
            Map<String, long[]> pairCounts = new HashMap<>();
            Map<String, byte[][]> pairBytes = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<byte[]> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    String key = ByteLevel.encode(s.get(i)) + " " + ByteLevel.encode(s.get(i + 1));
                    pairCounts.computeIfAbsent(key, k -> new long[1])[0] += counts.get(w);
                    pairBytes.put(key, new byte[][] {s.get(i), s.get(i + 1)});
                }
            }
            String best = null;
            for (String key : pairCounts.keySet()) {
                if (best == null || better(pairCounts.get(key)[0], pairBytes.get(key), pairCounts.get(best)[0],
                        pairBytes.get(best))) {
                    best = key;
                }
            }
            if (best == null) {
                break;
            }
            byte[][] pair = pairBytes.get(best);
            merges.add(best);
            byte[] joined = Arrays.copyOf(pair[0], pair[0].length + pair[1].length);
            System.arraycopy(pair[1], 0, joined, pair[0].length, pair[1].length);
            vocab.add(ByteLevel.encode(joined));
            for (List<byte[]> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (Arrays.equals(s.get(i), pair[0]) && Arrays.equals(s.get(i + 1), pair[1])) {
                        s.set(i, joined);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    private static boolean better(long count, byte[][] pair, long bestCount, byte[][] best) {
        if (count != bestCount) {
            return count > bestCount;
        }
        int c = Arrays.compareUnsigned(pair[0], best[0]);
        return c != 0 ? c < 0 : Arrays.compareUnsigned(pair[1], best[1]) < 0;
    }
}
