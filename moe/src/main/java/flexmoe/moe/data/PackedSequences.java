package flexmoe.moe.data;

import flexmoe.moe.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Training sequences of one domain and split, packed from a token stream, and their file format ({@code
 * <domain>.<split>.bin}). This class is the one place that defines the format.
 *
 * <p>The documents' tokens, each document followed by the tokenizer's EOS, are concatenated and cut into
 * consecutive, disjoint sequences of {@code seqLen + 1} tokens; a tail shorter than that is dropped (and counted).
 * Sequence {@code i} starts at {@link #offset(int) offset(i)} in {@link #tokens()}: the model's inputs are
 * {@code tokens[offset, offset + seqLen)} and its targets {@code tokens[offset + 1, offset + seqLen + 1)}, so both are
 * views of the same array, no copy. Disjoint sequences (rather than windows overlapping by one token) make one
 * sequence one training example that shares no token with another: DP-SGD samples and clips examples, and shuffling
 * or sharding is by index. The price is that the first token of each sequence is never a target (1 in seqLen + 1).
 * Sequences may span document boundaries; the EOS marks them.
 *
 * <p>File layout, little-endian:
 * <pre>
 * offset size  field
 *      0    8  magic "FMOEPACK" (ASCII)
 *      8    4  format version (1)
 *     12    4  vocabulary size V: every token is in [0, V)
 *     16    4  token width in bytes: 2 (unsigned 16-bit, when V &lt;= 65536) or 4 (signed 32-bit)
 *     20    4  sequence length S (each sequence stores S + 1 tokens)
 *     24    8  sequence count N
 *     32    8  documents whose tokens the stream holds (the last one possibly cut by the dropped tail)
 *     40    8  tokens dropped at the end of the stream (fewer than S + 1)
 *     48   16  reserved (zero)
 *     64   32  tokenizer fingerprint: SHA-256 of the tokenizer.json the tokens came from
 *     96   32  SHA-256 of the payload
 *    128       payload: N * (S + 1) tokens
 * </pre>
 * Loading checks all of it: magic, version, width against V, the file size against N and S, the payload checksum
 * and every token against V; {@link #requireTokenizer} checks V and the fingerprint against the tokenizer in use.
 */
public final class PackedSequences {

    public static final int FORMAT_VERSION = 1;
    public static final int HEADER_BYTES = 128;
    static final byte[] MAGIC = "FMOEPACK".getBytes(StandardCharsets.US_ASCII);
    /** Largest vocabulary stored with 16-bit tokens (ids 0..65535). */
    public static final int MAX_UINT16_VOCAB = 1 << 16;
    /** Upper bound on the sequence length, far above any model here; keeps sizes in range. */
    public static final int MAX_SEQ_LEN = 1 << 24;

    private static final int CHUNK = 1 << 20;

    private final Path file;
    private final int vocabSize;
    private final int seqLen;
    private final int sequenceCount;
    private final long documents;
    private final long droppedTokens;
    private final TokenizerFingerprint tokenizer;
    private final int[] tokens;

    private PackedSequences(Path file, int vocabSize, int seqLen, int sequenceCount, long documents, long droppedTokens,
                            TokenizerFingerprint tokenizer, int[] tokens) {
        this.file = file;
        this.vocabSize = vocabSize;
        this.seqLen = seqLen;
        this.sequenceCount = sequenceCount;
        this.documents = documents;
        this.droppedTokens = droppedTokens;
        this.tokenizer = tokenizer;
        this.tokens = tokens;
    }

    /** Token width in bytes for a vocabulary size: 2 up to 65536 ids, else 4. */
    public static int tokenWidth(int vocabSize) {
        return vocabSize <= MAX_UINT16_VOCAB ? 2 : 4;
    }

    /**
     * Loads and validates a packed file and checks it was made with this tokenizer.
     *
     * @throws PackFormatException naming the file and what is wrong
     */
    public static PackedSequences load(Path file, int tokenizerVocabSize, TokenizerFingerprint tokenizerFingerprint) {
        PackedSequences p = load(file);
        p.requireTokenizer(tokenizerVocabSize, tokenizerFingerprint);
        return p;
    }

    /**
     * Loads and validates a packed file (bulk read into an {@code int[]}).
     *
     * @throws PackFormatException naming the file and what is wrong
     */
    public static PackedSequences load(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, h, 0);
            h.flip();
            if (size == 0) {
                throw fail(file, "empty file (expected a flexmoe packed-token file)");
            }
            if (size < MAGIC.length || !Arrays.equals(Arrays.copyOf(h.array(), MAGIC.length), MAGIC)) {
                throw fail(file, "not a flexmoe packed-token file (expected magic \"FMOEPACK\" at offset 0)");
            }
            if (size < HEADER_BYTES) {
                throw fail(file, "truncated: " + size + " bytes, shorter than the " + HEADER_BYTES + "-byte header");
            }
            h.position(MAGIC.length);
            int version = h.getInt();
            if (version != FORMAT_VERSION) {
                throw fail(file, "format version " + version + " is not supported (this flexmoe reads version "
                        + FORMAT_VERSION + "): pack the corpus again with `flexmoe data pack`");
            }
            int vocab = h.getInt();
            int width = h.getInt();
            int s = h.getInt();
            long n = h.getLong();
            long docs = h.getLong();
            long dropped = h.getLong();
            h.position(64);
            byte[] fp = new byte[32];
            h.get(fp);
            byte[] checksum = new byte[32];
            h.get(checksum);
            if (vocab < 1) {
                throw fail(file, "header: vocabulary size " + vocab + ", expected at least 1");
            }
            if (width != tokenWidth(vocab)) {
                throw fail(file, "header: token width " + width + " bytes, expected " + tokenWidth(vocab)
                        + " for a vocabulary of " + vocab);
            }
            if (s < 1 || s > MAX_SEQ_LEN) {
                throw fail(file, "header: sequence length " + s + ", expected 1.." + MAX_SEQ_LEN);
            }
            if (n < 0 || docs < 0 || dropped < 0 || dropped > s) {
                throw fail(file, "header: sequence count " + n + ", documents " + docs + ", dropped tokens " + dropped
                        + " are not valid (expected non-negative, dropped tokens at most " + s + ")");
            }
            long perSequence = (long) s + 1;
            long tokenCount;
            long payloadBytes;
            try {
                tokenCount = Math.multiplyExact(n, perSequence);
                payloadBytes = Math.multiplyExact(tokenCount, width);
            } catch (ArithmeticException e) {
                throw fail(file, "header: " + n + " sequences of " + perSequence + " tokens is beyond any file size");
            }
            long expected = HEADER_BYTES + payloadBytes;
            if (size < expected) {
                throw fail(file, "truncated: the header declares " + n + " sequences of " + perSequence + " tokens ("
                        + expected + " bytes with the header), the file has " + size + " bytes");
            }
            if (size > expected) {
                throw fail(file, (size - expected) + " unexpected bytes after the " + n + " sequences of " + perSequence
                        + " tokens the header declares (" + expected + " bytes expected)");
            }
            if (tokenCount > Integer.MAX_VALUE - 8) {
                throw fail(file, tokenCount + " tokens do not fit in one Java array (at most " + (Integer.MAX_VALUE - 8)
                        + "): pack with fewer documents per domain");
            }
            int[] tokens = new int[(int) tokenCount];
            MessageDigest md = TokenizerFingerprint.sha256Digest();
            ByteBuffer buf = ByteBuffer.allocate(CHUNK - CHUNK % 4).order(ByteOrder.LITTLE_ENDIAN);
            long pos = HEADER_BYTES;
            int t = 0;
            long firstBad = -1;
            while (pos < size) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), size - pos));
                readFully(ch, buf, pos);
                pos += buf.limit();
                md.update(buf.array(), 0, buf.limit());
                buf.flip();
                if (width == 2) {
                    while (buf.hasRemaining()) {
                        int id = buf.getShort() & 0xFFFF;
                        if (id >= vocab && firstBad < 0) {
                            firstBad = t;
                        }
                        tokens[t++] = id;
                    }
                } else {
                    while (buf.hasRemaining()) {
                        int id = buf.getInt();
                        if ((id < 0 || id >= vocab) && firstBad < 0) {
                            firstBad = t;
                        }
                        tokens[t++] = id;
                    }
                }
            }
            if (!MessageDigest.isEqual(md.digest(), checksum)) {
                throw fail(file, "payload checksum mismatch (the tokens were changed or damaged after packing)");
            }
            if (firstBad >= 0) {
                throw fail(file, "token id " + tokens[(int) firstBad] + " at sequence " + firstBad / perSequence
                        + ", position " + firstBad % perSequence + " is outside the vocabulary [0, " + vocab + ")");
            }
            return new PackedSequences(file, vocab, s, (int) n, docs, dropped, TokenizerFingerprint.ofDigest(fp), tokens);
        } catch (NoSuchFileException e) {
            throw new PackFormatException(file + ": packed-token file does not exist", e);
        } catch (IOException e) {
            throw new PackFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Checks that these tokens come from the given tokenizer.
     *
     * @throws PackFormatException if the vocabulary size or the fingerprint differ
     */
    public void requireTokenizer(int tokenizerVocabSize, TokenizerFingerprint fingerprint) {
        if (tokenizerVocabSize != vocabSize) {
            throw fail(file, "packed for a vocabulary of " + vocabSize + " tokens, but the tokenizer has "
                    + tokenizerVocabSize + ": pack the corpus again with this tokenizer");
        }
        if (!fingerprint.equals(tokenizer)) {
            throw fail(file, "packed with tokenizer " + tokenizer.shortForm() + "..., not with this one ("
                    + fingerprint.shortForm() + "...): pack the corpus again with this tokenizer");
        }
    }

    public Path file() {
        return file;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** S: the model's context length; each sequence holds S + 1 tokens. */
    public int seqLen() {
        return seqLen;
    }

    public int sequenceCount() {
        return sequenceCount;
    }

    public long documents() {
        return documents;
    }

    public long droppedTokens() {
        return droppedTokens;
    }

    public TokenizerFingerprint tokenizer() {
        return tokenizer;
    }

    /**
     * All sequences back to back, {@code seqLen + 1} tokens each. Shared, not copied: callers must not modify it.
     */
    public int[] tokens() {
        return tokens;
    }

    /** Where sequence {@code i} starts in {@link #tokens()}: inputs at {@code [o, o + S)}, targets at {@code [o + 1, o + S + 1)}. */
    public int offset(int i) {
        if (i < 0 || i >= sequenceCount) {
            throw new IndexOutOfBoundsException("sequence " + i + " of " + sequenceCount + " in " + file);
        }
        return i * (seqLen + 1);
    }

    /** A copy of sequence {@code i}'s {@code seqLen + 1} tokens. */
    public int[] sequence(int i) {
        int o = offset(i);
        return Arrays.copyOfRange(tokens, o, o + seqLen + 1);
    }

    private static PackFormatException fail(Path file, String what) {
        return new PackFormatException(file + ": " + what);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                return;
            }
            p += n;
        }
    }

    /**
     * Writes one packed file: tokens go in as a stream, come out as whole sequences, a shorter tail is dropped. The
     * file is written to a hidden temporary file next to the target; {@link #finish()} completes it and
     * {@link #commit()} renames it into place atomically, so a failed run never leaves a partial or stale-looking
     * file. {@link #close()} deletes the temporary file unless it was committed.
     */
    public static final class Writer implements AutoCloseable {
        private final Path target;
        private final Path temp;
        private final int vocabSize;
        private final int seqLen;
        private final int width;
        private final TokenizerFingerprint tokenizer;
        private final int[] pending;
        private int pendingCount;
        private final FileChannel channel;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private final MessageDigest md = TokenizerFingerprint.sha256Digest();
        private long position = HEADER_BYTES;
        private long sequences;
        private long tokens;
        private long documents;
        private boolean finished;
        private boolean committed;

        /** Starts a packed file that {@link #commit()} will place at {@code target}. */
        public Writer(Path target, int vocabSize, int seqLen, TokenizerFingerprint tokenizer) {
            if (vocabSize < 1) {
                throw new IllegalArgumentException("vocabulary size must be at least 1, got " + vocabSize);
            }
            if (seqLen < 1 || seqLen > MAX_SEQ_LEN) {
                throw new IllegalArgumentException("sequence length must be in 1.." + MAX_SEQ_LEN + ", got " + seqLen);
            }
            this.target = target.toAbsolutePath();
            this.vocabSize = vocabSize;
            this.seqLen = seqLen;
            this.width = tokenWidth(vocabSize);
            this.tokenizer = tokenizer;
            this.pending = new int[seqLen + 1];
            Path t = null;
            try {
                Files.createDirectories(this.target.getParent());
                t = AtomicFiles.tempFileFor(this.target);
                this.channel = FileChannel.open(t, StandardOpenOption.WRITE);
            } catch (IOException e) {
                deleteQuietly(t);
                throw new CorpusException(target + ": cannot write: " + e.getMessage(), e);
            }
            this.temp = t;
        }

        /** Appends tokens {@code ids[from, to)}; each must be in {@code [0, vocabSize)}. */
        public void append(int[] ids, int from, int to) {
            for (int i = from; i < to; i++) {
                append(ids[i]);
            }
        }

        public void append(int id) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            pending[pendingCount++] = id;
            tokens++;
            if (pendingCount == pending.length) {
                for (int t : pending) {
                    if (buf.remaining() < width) {
                        flush();
                    }
                    if (width == 2) {
                        buf.putShort((short) t);
                    } else {
                        buf.putInt(t);
                    }
                }
                pendingCount = 0;
                sequences++;
            }
        }

        /** Counts one more document in the stream (recorded in the header). */
        public void documentEnded() {
            documents++;
        }

        /** Tokens appended so far, including those that may end up in the dropped tail. */
        public long tokens() {
            return tokens;
        }

        /** Whole sequences so far. */
        public long sequences() {
            return sequences;
        }

        public long documents() {
            return documents;
        }

        /** Tokens that did not fill a last sequence (dropped when the file is finished). */
        public int tailTokens() {
            return pendingCount;
        }

        /** Drops the tail, writes the header and syncs the temporary file to disk. */
        public void finish() {
            if (finished) {
                return;
            }
            try {
                flush();
                ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                h.put(MAGIC).putInt(FORMAT_VERSION).putInt(vocabSize).putInt(width).putInt(seqLen)
                        .putLong(sequences).putLong(documents).putLong(pendingCount);
                h.position(64);
                h.put(tokenizer.digest()).put(md.digest());
                h.flip();
                long p = 0;
                while (h.hasRemaining()) {
                    p += channel.write(h, p);
                }
                channel.force(true);
                channel.close();
                finished = true;
            } catch (IOException e) {
                throw new CorpusException(target + ": cannot write: " + e.getMessage(), e);
            }
        }

        /** Renames the finished file into place (atomically, replacing an older one). */
        public void commit() {
            finish();
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                committed = true;
            } catch (IOException e) {
                throw new CorpusException(target + ": cannot write: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            try {
                channel.close();
                if (!committed) {
                    Files.deleteIfExists(temp);
                }
            } catch (IOException e) {
                throw new CorpusException(temp + ": cannot remove the temporary file: " + e.getMessage(), e);
            }
        }

        private static void deleteQuietly(Path p) {
            if (p != null) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the original error is the one to report
                }
            }
        }

        private void flush() {
            buf.flip();
            md.update(buf.array(), 0, buf.limit());
            try {
                while (buf.hasRemaining()) {
                    position += channel.write(buf, position);
                }
            } catch (IOException e) {
                throw new CorpusException(target + ": cannot write: " + e.getMessage(), e);
            }
            buf.clear();
        }
    }
}
