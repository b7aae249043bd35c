package flexmoe.moe.tokenizer;

import flexmoe.moe.io.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;

/**
 * Byte-level BPE as in GPT-2 and Hugging Face {@code tokenizers}: text is split by GPT-2's pre-tokenizer
 * ({@link PreTokenizer}), each piece becomes its UTF-8 bytes (one token each), and merges are applied lowest rank
 * first (leftmost occurrence first among equal ranks) until none applies.
 *
 * <p>Encoding treats text as data: the literal string {@code <|endoftext|>} in the text is encoded as ordinary bytes,
 * never as the EOS id (Hugging Face's {@code encode} would map it to the special token). An unpaired surrogate, which
 * UTF-8 cannot represent, is encoded as U+FFFD; so {@code decode(encode(s)).equals(s)} holds for every string
 * of valid Unicode (no unpaired surrogates), which is every string read from UTF-8.
 *
 * <p>Decoding concatenates the tokens' bytes (added tokens such as EOS give their literal content) and reads them as
 * UTF-8; a byte sequence that is not valid UTF-8 (a range that cuts a character's bytes apart, or ids in an order
 * the encoder never produces) becomes U+FFFD, one per maximal invalid subsequence, as
 * {@link String#String(byte[], java.nio.charset.Charset)} does.
 *
 * <p>Instances are immutable and thread-safe; each thread keeps its own bounded cache of piece encodings.
 */
public final class BpeTokenizer implements Tokenizer {

    /** The end-of-document token: GPT-2's, used to separate documents in packed sequences. */
    public static final String EOS = "<|endoftext|>";

    /** Pieces up to this many chars are cached; longer ones (long whitespace or CJK runs) are rare and costly to key. */
    private static final int MAX_CACHED_PIECE = 48;
    /** Above this many bytes a piece is merged with a heap (O(n log n)) instead of rescanning (O(n^2)). */
    static final int SCAN_LIMIT = 64;

    private final String[] tokens;
    private final byte[][] tokenBytes;
    private final boolean[] added;
    private final boolean[] special;
    private final int[] byteIds = new int[256];
    private final int[] mergeLeft;
    private final int[] mergeRight;
    private final int[] mergeResult;
    private final LongIntMap rankOf;
    private final int eosId;
    private final Map<String, Integer> idOf;
    private final ThreadLocal<EncodeState> state = ThreadLocal.withInitial(EncodeState::new);
    private volatile String fingerprint;

    /**
     * Loaders check their files before calling this and report problems with the file's name; here a violation is
     * a programming error.
     *
     * @param tokens  token strings by id: GPT-2 byte-alphabet strings, or the literal content of added tokens
     * @param added   which ids are added tokens (outside BPE; they decode to their content)
     * @param special which added tokens are special (Hugging Face's flag, kept for the file)
     * @param merges  token-id pairs by rank; each pair's concatenation must be a token
     */
    BpeTokenizer(String[] tokens, boolean[] added, boolean[] special, int[][] merges) {
        int n = tokens.length;
        this.tokens = tokens.clone();
        this.added = added.clone();
        this.special = special.clone();
        this.tokenBytes = new byte[n][];
        this.idOf = new HashMap<>(n * 2);
        int eos = -1;
        for (int id = 0; id < n; id++) {
            if (added[id]) {
                tokenBytes[id] = tokens[id].getBytes(StandardCharsets.UTF_8);
                if (tokens[id].equals(EOS) && eos < 0) {
                    eos = id;
                }
            } else {
                tokenBytes[id] = ByteLevel.decode(tokens[id]);
                if (tokenBytes[id] == null || tokenBytes[id].length == 0) {
                    throw new IllegalArgumentException("token " + quote(tokens[id]) + " is not a byte-level string");
                }
                if (idOf.put(tokens[id], id) != null) {
                    throw new IllegalArgumentException("token " + quote(tokens[id]) + " appears twice");
                }
            }
        }
        // An added token whose content is also a BPE token's string: the lookup by string finds the BPE token.
        for (int id = 0; id < n; id++) {
            if (added[id]) {
                idOf.putIfAbsent(tokens[id], id);
            }
        }
        if (eos < 0) {
            throw new IllegalArgumentException("no added token " + EOS);
        }
        this.eosId = eos;
        for (int b = 0; b < 256; b++) {
            Integer id = idOf.get(String.valueOf(ByteLevel.charOf(b)));
            if (id == null || added[id]) {
                throw new IllegalArgumentException("no token for byte " + b);
            }
            byteIds[b] = id;
        }
        int m = merges.length;
        mergeLeft = new int[m];
        mergeRight = new int[m];
        mergeResult = new int[m];
        rankOf = new LongIntMap(m);
        for (int r = 0; r < m; r++) {
            int a = merges[r][0];
            int b = merges[r][1];
            Integer result = idOf.get(tokens[a] + tokens[b]);
            if (added[a] || added[b] || result == null || added[result]) {
                throw new IllegalArgumentException("merge " + r + " is not a merge of two vocabulary tokens");
            }
            mergeLeft[r] = a;
            mergeRight[r] = b;
            mergeResult[r] = result;
            long key = LongIntMap.pair(a, b);
            if (rankOf.get(key, -1) >= 0) {
                throw new IllegalArgumentException("merge " + r + " repeats an earlier merge");
            }
            rankOf.put(key, r);
        }
    }

    /** Reads a Hugging Face {@code tokenizer.json} (byte-level BPE); see {@link TokenizerJson} for what is accepted. */
    public static BpeTokenizer load(Path tokenizerJson) {
        return TokenizerJson.read(tokenizerJson);
    }

    /** Reads GPT-2's {@code encoder.json} and {@code vocab.bpe}. */
    public static BpeTokenizer loadGpt2(Path encoderJson, Path vocabBpe) {
        return Gpt2Files.read(encoderJson, vocabBpe);
    }

    /** Writes {@link #toJson()} to {@code file} atomically (a temporary file in the same directory, then a move). */
    public void save(Path file) {
        AtomicFiles.write(file, canonicalBytes());
    }

    /** This tokenizer as Hugging Face {@code tokenizer.json}, in flexmoe's canonical layout (the bytes {@link #save} writes). */
    public String toJson() {
        return new String(canonicalBytes(), StandardCharsets.UTF_8);
    }

    private byte[] canonicalBytes() {
        return TokenizerJson.write(this);
    }

    /**
     * SHA-256 (lowercase hex) of the canonical {@code tokenizer.json} bytes: equal for equal tokenizers however they
     * were stored or loaded, so packed data and model artifacts can refuse a different tokenizer.
     */
    @Override
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            try {
                f = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonicalBytes()));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no SHA-256", e);
            }
            fingerprint = f;
        }
        return f;
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    /** Number of merges (ranks 0..mergeCount-1). */
    public int mergeCount() {
        return mergeLeft.length;
    }

    /** The token string of {@code id}: GPT-2's byte alphabet ({@code Ġthe}), or an added token's content. */
    public String token(int id) {
        Objects.checkIndex(id, tokens.length);
        return tokens[id];
    }

    /** The id of token string {@code token}, or -1. */
    public int id(String token) {
        Integer id = idOf.get(token);
        return id == null ? -1 : id;
    }

    /** Whether {@code id} is an added token (such as EOS) rather than a BPE token. */
    public boolean isAdded(int id) {
        Objects.checkIndex(id, tokens.length);
        return added[id];
    }

    boolean isSpecial(int id) {
        return special[id];
    }

    /** The two ids merged at {@code rank}. */
    public int[] merge(int rank) {
        Objects.checkIndex(rank, mergeLeft.length);
        return new int[] {mergeLeft[rank], mergeRight[rank]};
    }

    // ---- encoding ----

    @Override
    public int[] encode(String text) {
        EncodeState st = state.get();
        st.outLen = 0;
        int n = text.length();
        for (int i = 0; i < n; ) {
            int end = PreTokenizer.pieceEnd(text, i, n);
            encodePiece(text, i, end, st);
            i = end;
        }
        int[] ids = Arrays.copyOf(st.out, st.outLen);
        st.shrink();
        return ids;
    }

    private void encodePiece(String text, int start, int end, EncodeState st) {
        int len = end - start;
        if (len > MAX_CACHED_PIECE) {
            int n = merge(st, toBytes(text, start, end, st));
            st.append(st.sym, n);
            return;
        }
        int hash = 0;
        for (int i = start; i < end; i++) {
            hash = 31 * hash + text.charAt(i);
        }
        hash ^= hash >>> 16;
        int mask = st.cacheKeys.length - 1;
        int slot = hash & mask;
        String key;
        while ((key = st.cacheKeys[slot]) != null) {
            if (st.cacheHashes[slot] == hash && key.length() == len && text.regionMatches(start, key, 0, len)) {
                st.append(st.cacheIds[slot], st.cacheIds[slot].length);
                return;
            }
            slot = (slot + 1) & mask;
        }
        int n = merge(st, toBytes(text, start, end, st));
        int[] ids = Arrays.copyOf(st.sym, n);
        if (st.cacheSize * 2 >= st.cacheKeys.length) {
            // Bounded memory: start afresh rather than track recency; frequent pieces come back at once.
            st.clearCache();
            slot = hash & mask;
        }
        st.cacheKeys[slot] = text.substring(start, end);
        st.cacheHashes[slot] = hash;
        st.cacheIds[slot] = ids;
        st.cacheSize++;
        st.append(ids, n);
    }

    /** UTF-8 of text[start, end) as byte token ids in st.sym; returns the count. Unpaired surrogates become U+FFFD. */
    private int toBytes(String text, int start, int end, EncodeState st) {
        int[] sym = st.symbols(3 * (end - start));
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                sym[n++] = byteIds[c];
            } else if (c < 0x800) {
                sym[n++] = byteIds[0xC0 | (c >> 6)];
                sym[n++] = byteIds[0x80 | (c & 0x3F)];
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, text.charAt(++i));
                    sym[n++] = byteIds[0xF0 | (cp >> 18)];
                    sym[n++] = byteIds[0x80 | ((cp >> 12) & 0x3F)];
                    sym[n++] = byteIds[0x80 | ((cp >> 6) & 0x3F)];
                    sym[n++] = byteIds[0x80 | (cp & 0x3F)];
                } else {
                    sym[n++] = byteIds[0xEF];
                    sym[n++] = byteIds[0xBF];
                    sym[n++] = byteIds[0xBD];
                }
            } else {
                sym[n++] = byteIds[0xE0 | (c >> 12)];
                sym[n++] = byteIds[0x80 | ((c >> 6) & 0x3F)];
                sym[n++] = byteIds[0x80 | (c & 0x3F)];
            }
        }
        return n;
    }

    private int merge(EncodeState st, int n) {
        return n <= SCAN_LIMIT ? mergeByScan(st.sym, n) : mergeByHeap(st, n);
    }

    /** Applies merges to sym[0, n) by rescanning for the lowest-ranked pair; returns the new length. */
    int mergeByScan(int[] sym, int n) {
        while (n > 1) {
            int best = Integer.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < n; i++) {
                int r = rankOf.get(LongIntMap.pair(sym[i], sym[i + 1]), Integer.MAX_VALUE);
                if (r < best) {
                    best = r;
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            // Every occurrence of the best pair, left to right: a pair made by this merge has a higher rank, so
            // this is what merging one leftmost occurrence at a time would do.
            int a = mergeLeft[best];
            int b = mergeRight[best];
            int t = mergeResult[best];
            int w = at;
            for (int i = at; i < n; ) {
                if (i + 1 < n && sym[i] == a && sym[i + 1] == b) {
                    sym[w++] = t;
                    i += 2;
                } else {
                    sym[w++] = sym[i++];
                }
            }
            n = w;
        }
        return n;
    }

    /**
     * Applies merges to st.sym[0, n) with a min-heap of (rank, position) over a linked list of symbols, as Hugging
     * Face does; the same result as {@link #mergeByScan} in O(n log n). Returns the new length.
     */
    int mergeByHeap(EncodeState st, int n) {
        int[] sym = st.sym;
        int[] next = st.next(n);
        int[] prev = st.prev(n);
        st.heapSize = 0;
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            if (i + 1 < n) {
                pushPair(st, sym, i, i + 1);
            }
        }
        while (st.heapSize > 0) {
            long top = st.pop();
            int r = (int) (top >>> 32);
            int i = (int) top;
            int j = next[i];
            // Stale entries: the left symbol was merged away, or the pair changed since the entry was pushed.
            if (sym[i] != mergeLeft[r] || j < 0 || sym[j] != mergeRight[r]) {
                continue;
            }
            sym[i] = mergeResult[r];
            sym[j] = -1;
            next[i] = next[j];
            if (next[j] >= 0) {
                prev[next[j]] = i;
            }
            if (prev[i] >= 0) {
                pushPair(st, sym, prev[i], i);
            }
            if (next[i] >= 0) {
                pushPair(st, sym, i, next[i]);
            }
        }
        int w = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            sym[w++] = sym[i];
        }
        return w;
    }

    private void pushPair(EncodeState st, int[] sym, int i, int j) {
        int r = rankOf.get(LongIntMap.pair(sym[i], sym[j]), -1);
        if (r >= 0) {
            st.push(((long) r << 32) | i);
        }
    }

    // ---- decoding ----

    @Override
    public String decode(int[] ids, int from, int to) {
        return new String(decodeBytes(ids, from, to), StandardCharsets.UTF_8);
    }

    /** The bytes of {@code ids[from, to)}: the tokens' bytes concatenated (added tokens: their UTF-8 content). */
    public byte[] decodeBytes(int[] ids, int from, int to) {
        Objects.checkFromToIndex(from, to, ids.length);
        int total = 0;
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (id < 0 || id >= tokens.length) {
                throw new IllegalArgumentException(
                        "decode: id " + id + " at index " + i + " is outside the vocabulary [0, " + tokens.length + ")");
            }
            total += tokenBytes[id].length;
        }
        byte[] bytes = new byte[total];
        int at = 0;
        for (int i = from; i < to; i++) {
            byte[] t = tokenBytes[ids[i]];
            System.arraycopy(t, 0, bytes, at, t.length);
            at += t.length;
        }
        return bytes;
    }

    static String quote(String token) {
        StringBuilder sb = new StringBuilder("\"");
        token.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F || cp == '"' || cp == '\\') {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append('"').toString();
    }

    /** Per-thread scratch space and piece cache; grows as needed, shrinks back after a very long text. */
    static final class EncodeState {
        private static final int CACHE_SLOTS = 1 << 16;
        private static final int MAX_KEPT = 1 << 20;

        int[] out = new int[1024];
        int outLen;
        int[] sym = new int[256];
        private int[] next = new int[0];
        private int[] prev = new int[0];
        private long[] heap = new long[0];
        int heapSize;
        final String[] cacheKeys = new String[CACHE_SLOTS];
        final int[] cacheHashes = new int[CACHE_SLOTS];
        final int[][] cacheIds = new int[CACHE_SLOTS][];
        int cacheSize;

        int[] symbols(int capacity) {
            if (sym.length < capacity) {
                sym = new int[Math.max(capacity, sym.length * 2)];
            }
            return sym;
        }

        int[] next(int n) {
            if (next.length < n) {
                next = new int[n];
            }
            return next;
        }

        int[] prev(int n) {
            if (prev.length < n) {
                prev = new int[n];
                heap = new long[n];
            }
            return prev;
        }

        void append(int[] ids, int n) {
            if (outLen + n > out.length) {
                out = Arrays.copyOf(out, Math.max(outLen + n, out.length * 2));
            }
            System.arraycopy(ids, 0, out, outLen, n);
            outLen += n;
        }

        void push(long e) {
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, Math.max(16, heap.length * 2));
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= e) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = e;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--heapSize];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= heapSize) {
                    break;
                }
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= last) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }

        void clearCache() {
            Arrays.fill(cacheKeys, null);
            Arrays.fill(cacheIds, null);
            cacheSize = 0;
        }

        void shrink() {
            if (out.length > MAX_KEPT) {
                out = new int[1024];
            }
            if (sym.length > MAX_KEPT) {
                sym = new int[256];
                next = new int[0];
                prev = new int[0];
                heap = new long[0];
            }
        }
    }
}
