package flexmoe.moe.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.stream.Stream;

/**
 * Trains a byte-level BPE tokenizer ({@link BpeTokenizer}) on a stream of documents.
 *
 * <p>Vocabulary: ids 0..255 are the bytes (id = byte value), then one token per merge in the order learnt, then
 * {@code <|endoftext|>} last; {@code vocabSize} counts all of them. Training stops early, with a smaller vocabulary,
 * only when no pair of adjacent tokens is left to merge (a corpus too small for the size asked).
 *
 * <p>Algorithm: count the pre-tokenizer's pieces (words) once, then repeat: merge the most frequent adjacent pair,
 * updating the counts of only the pairs next to the merged occurrences (a pair -> words index and a priority queue
 * whose stale entries are re-queued when popped), as Hugging Face's trainer does. Pairs never cross piece
 * boundaries, so they never cross documents either.
 *
 * <p>Deterministic: the same documents give the same merges, whatever their order. Ties between pairs of equal count
 * go to the pair whose left token's bytes come first (unsigned lexicographic order, a prefix before its extensions),
 * then the right token's bytes.
 */
public final class BpeTrainer {

    public static final int DEFAULT_VOCAB_SIZE = 4096;
    private static final int BYTES = 256;

    /** Receives progress of a long training run; {@code total} is -1 when not known in advance. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (phase, done, total) -> { };

        /**
         * @param phase {@code "reading"} (done = documents read so far) or {@code "merging"} (done = vocabulary size
         *              reached, total = the size asked for)
         */
        void update(String phase, long done, long total);
    }

    private final int vocabSize;
    private final Progress progress;

    public BpeTrainer(int vocabSize) {
        this(vocabSize, Progress.NONE);
    }

    public BpeTrainer(int vocabSize, Progress progress) {
        if (vocabSize < BYTES + 1) {
            throw new IllegalArgumentException("vocabulary size " + vocabSize + " is too small: it needs at least "
                    + (BYTES + 1) + " (256 byte tokens and " + BpeTokenizer.EOS + ")");
        }
        this.vocabSize = vocabSize;
        this.progress = progress;
    }

    public BpeTokenizer train(Stream<String> documents) {
        return train((Iterable<String>) documents::iterator);
    }

    public BpeTokenizer train(Iterable<String> documents) {
        PieceCounts counts = new PieceCounts();
        for (String text : documents) {
            counts.add(text);
            if (counts.documents() % 256 == 0) {
                progress.update("reading", counts.documents(), -1);
            }
        }
        progress.update("reading", counts.documents(), counts.documents());
        return train(counts);
    }

    /**
     * Trains on pieces counted beforehand, for document sources that push rather than iterate:
     * {@code corpus.forEachDocument(domain, Split.TRAIN, doc -> counts.add(doc.text()))}.
     */
    public BpeTokenizer train(PieceCounts counts) {
        if (counts.chars == 0) {
            throw new IllegalArgumentException("no text to train the tokenizer on (" + counts.documents
                    + " documents, all empty)");
        }
        return new Merger(counts.counts).run();
    }

    /** The pre-tokenizer's pieces of the documents added, with their frequencies: all that training needs of the text. */
    public static final class PieceCounts {
        private final Map<String, int[]> counts = new HashMap<>();
        private long documents;
        private long chars;

        public void add(String document) {
            int n = document.length();
            for (int i = 0; i < n; ) {
                int end = PreTokenizer.pieceEnd(document, i, n);
                int[] c = counts.computeIfAbsent(document.substring(i, end), k -> new int[1]);
                if (++c[0] < 0) {
                    throw new IllegalArgumentException("a piece occurs more than 2^31 times: too much text for one run");
                }
                i = end;
            }
            chars += n;
            documents++;
        }

        public long documents() {
            return documents;
        }

        /** UTF-16 chars added. */
        public long chars() {
            return chars;
        }

        /** Distinct pieces (words) seen. */
        public int distinct() {
            return counts.size();
        }
    }

    /** The merge loop over the distinct pieces; one use. */
    private final class Merger {
        private final int[][] words;
        private final int[] lengths;
        private final int[] counts;
        private final List<byte[]> tokenBytes = new ArrayList<>();
        private final Map<String, Integer> idOf = new HashMap<>();
        private final List<int[]> merges = new ArrayList<>();
        private final LongIntMap pairCounts;
        /** pair -> index into {@link #where}: the words that contained the pair at some point (duplicates, stale). */
        private final LongIntMap whereIndex;
        private final List<IntList> where = new ArrayList<>();
        private final PriorityQueue<Candidate> queue = new PriorityQueue<>(this::compare);
        private final int[] visitedAt;
        private final LongIntMap queuedAt;
        private final List<Long> grown = new ArrayList<>();

        Merger(Map<String, int[]> pieceCounts) {
            int n = pieceCounts.size();
            words = new int[n][];
            lengths = new int[n];
            counts = new int[n];
            CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .replaceWith(new byte[] {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD}); // U+FFFD, as the encoder does
            int w = 0;
            for (Map.Entry<String, int[]> e : pieceCounts.entrySet()) {
                byte[] bytes = encode(utf8, e.getKey());
                words[w] = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) {
                    words[w][i] = bytes[i] & 0xFF;
                }
                lengths[w] = bytes.length;
                counts[w] = e.getValue()[0];
                w++;
            }
            for (int b = 0; b < BYTES; b++) {
                byte[] bytes = {(byte) b};
                tokenBytes.add(bytes);
                idOf.put(ByteLevel.encode(bytes), b);
            }
            visitedAt = new int[n];
            Arrays.fill(visitedAt, -1);
            pairCounts = new LongIntMap(1 << 16);
            whereIndex = new LongIntMap(1 << 16);
            queuedAt = new LongIntMap(1 << 16);
            for (w = 0; w < n; w++) {
                for (int i = 0; i + 1 < lengths[w]; i++) {
                    long pair = LongIntMap.pair(words[w][i], words[w][i + 1]);
                    pairCounts.add(pair, counts[w]);
                    wordsWith(pair).add(w);
                }
            }
            pairCounts.forEach((pair, count) -> queue.add(new Candidate(count, pair)));
        }

        private static byte[] encode(CharsetEncoder utf8, String piece) {
            try {
                ByteBuffer buf = utf8.reset().encode(CharBuffer.wrap(piece));
                byte[] bytes = new byte[buf.remaining()];
                buf.get(bytes);
                return bytes;
            } catch (CharacterCodingException e) {
                throw new IllegalStateException("UTF-8 encoding with replacement cannot fail", e);
            }
        }

        private IntList wordsWith(long pair) {
            int i = whereIndex.get(pair, -1);
            if (i < 0) {
                i = where.size();
                where.add(new IntList());
                whereIndex.put(pair, i);
            }
            return where.get(i);
        }

        /** Higher count first; ties by the left token's bytes, then the right's (unsigned lexicographic). */
        private int compare(Candidate x, Candidate y) {
            if (x.count != y.count) {
                return Integer.compare(y.count, x.count);
            }
            int c = Arrays.compareUnsigned(tokenBytes.get(LongIntMap.left(x.pair)), tokenBytes.get(LongIntMap.left(y.pair)));
            if (c != 0) {
                return c;
            }
            return Arrays.compareUnsigned(tokenBytes.get(LongIntMap.right(x.pair)), tokenBytes.get(LongIntMap.right(y.pair)));
        }

        BpeTokenizer run() {
            int target = vocabSize - 1; // the EOS comes last
            int step = 0;
            while (tokenBytes.size() < target) {
                Candidate best = queue.poll();
                if (best == null) {
                    break; // nothing left to merge: every piece is one token
                }
                int current = pairCounts.get(best.pair, 0);
                if (current <= 0) {
                    continue;
                }
                if (current != best.count) {
                    queue.add(new Candidate(current, best.pair)); // counts only drop between pushes: re-rank it
                    continue;
                }
                int a = LongIntMap.left(best.pair);
                int b = LongIntMap.right(best.pair);
                byte[] ab = concat(tokenBytes.get(a), tokenBytes.get(b));
                String token = ByteLevel.encode(ab);
                Integer t = idOf.get(token);
                if (t == null) {
                    // Two merges can spell the same bytes ("a"+"bc", "ab"+"c"): the token is shared, as in HF.
                    t = tokenBytes.size();
                    tokenBytes.add(ab);
                    idOf.put(token, t);
                }
                merges.add(new int[] {a, b});
                apply(a, b, t, step++);
                progress.update("merging", tokenBytes.size() + 1, vocabSize);
            }
            int n = tokenBytes.size() + 1;
            String[] tokens = new String[n];
            for (int id = 0; id < n - 1; id++) {
                tokens[id] = ByteLevel.encode(tokenBytes.get(id));
            }
            tokens[n - 1] = BpeTokenizer.EOS;
            boolean[] added = new boolean[n];
            added[n - 1] = true;
            return new BpeTokenizer(tokens, added, added.clone(), merges.toArray(new int[0][]));
        }

        /** Replaces every occurrence of (a, b) by t and updates the counts of the pairs around them. */
        private void apply(int a, int b, int t, int step) {
            long merged = LongIntMap.pair(a, b);
            IntList list = where.get(whereIndex.get(merged, -1));
            grown.clear();
            for (int k = 0; k < list.size; k++) {
                int w = list.values[k];
                if (visitedAt[w] == step) {
                    continue;
                }
                visitedAt[w] = step;
                int[] s = words[w];
                int len = lengths[w];
                int c = counts[w];
                int out = 0;
                for (int i = 0; i < len; ) {
                    if (i + 1 < len && s[i] == a && s[i + 1] == b) {
                        // In place, so a previous occurrence already reads as t: "a b a b" ends with (t, t) counted.
                        if (out > 0) {
                            int prev = s[out - 1];
                            pairCounts.add(LongIntMap.pair(prev, a), -c);
                            grow(LongIntMap.pair(prev, t), c, w, step);
                        }
                        if (i + 2 < len) {
                            int next = s[i + 2];
                            pairCounts.add(LongIntMap.pair(b, next), -c);
                            grow(LongIntMap.pair(t, next), c, w, step);
                        }
                        s[out++] = t;
                        i += 2;
                    } else {
                        s[out++] = s[i++];
                    }
                }
                lengths[w] = out;
            }
            pairCounts.put(merged, 0);
            list.clear();
            for (long pair : grown) {
                int count = pairCounts.get(pair, 0);
                if (count > 0) {
                    queue.add(new Candidate(count, pair));
                }
            }
        }

        private void grow(long pair, int count, int word, int step) {
            pairCounts.add(pair, count);
            wordsWith(pair).add(word);
            if (queuedAt.get(pair, -1) != step) {
                queuedAt.put(pair, step);
                grown.add(pair);
            }
        }

        private static byte[] concat(byte[] x, byte[] y) {
            byte[] r = Arrays.copyOf(x, x.length + y.length);
            System.arraycopy(y, 0, r, x.length, y.length);
            return r;
        }
    }

    private record Candidate(int count, long pair) {
    }

    private static final class IntList {
        int[] values = new int[4];
        int size;

        void add(int v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        void clear() {
            values = new int[4];
            size = 0;
        }
    }
}
