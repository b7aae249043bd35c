package flexmoe.moe.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packed-token file format: round trip, and a clear error for each kind of corruption. */
class PackedSequencesTest {

    private static final TokenizerFingerprint FP = TokenizerFingerprint.ofBytes(new byte[] {1, 2, 3});

    @TempDir
    Path dir;

    /** Writes {@code tokens} with the given vocabulary and sequence length; returns the committed file. */
    private Path write(String name, int vocab, int seqLen, int[] tokens) {
        Path target = dir.resolve(name);
        try (PackedSequences.Writer w = new PackedSequences.Writer(target, vocab, seqLen, FP)) {
            w.append(tokens, 0, tokens.length);
            w.documentEnded();
            w.commit();
        }
        return target;
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextInt(vocab);
        }
        return t;
    }

    @Test
    void roundTripWith16BitTokensDropsTheTail() {
        int vocab = 65536; // the largest vocabulary that still fits 16 bits: id 65535 must survive
        int[] tokens = randomTokens(10 * 9 + 4, vocab, 1);
        tokens[3] = 65535;
        Path file = write("a.bin", vocab, 8, tokens);

        PackedSequences p = PackedSequences.load(file, vocab, FP);

        assertThat(PackedSequences.tokenWidth(vocab)).isEqualTo(2);
        assertThat(p.sequenceCount()).isEqualTo(10);
        assertThat(p.seqLen()).isEqualTo(8);
        assertThat(p.droppedTokens()).isEqualTo(4);
        assertThat(p.documents()).isEqualTo(1);
        assertThat(p.tokens()).containsExactly(Arrays.copyOf(tokens, 90));
        assertThat(p.offset(3)).isEqualTo(27);
        assertThat(p.sequence(3)).containsExactly(Arrays.copyOfRange(tokens, 27, 36));
        assertThat(p.tokenizer()).isEqualTo(FP);
        try {
            assertThat(Files.size(file)).isEqualTo(PackedSequences.HEADER_BYTES + 90 * 2);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void roundTripWith32BitTokens() {
        int vocab = 65537;
        int[] tokens = randomTokens(3 * 5, vocab, 2);
        tokens[0] = 65536;
        Path file = write("a.bin", vocab, 4, tokens);

        PackedSequences p = PackedSequences.load(file);

        assertThat(PackedSequences.tokenWidth(vocab)).isEqualTo(4);
        assertThat(p.tokens()).containsExactly(tokens);
        assertThat(p.droppedTokens()).isZero();
    }

    @Test
    void sameTokensGiveTheSameBytes() throws IOException {
        int[] tokens = randomTokens(1000, 300, 3);
        assertThat(Files.readAllBytes(write("a.bin", 300, 16, tokens)))
                .isEqualTo(Files.readAllBytes(write("b.bin", 300, 16, tokens)));
    }

    @Test
    void writerRejectsIdsOutsideTheVocabulary() {
        try (PackedSequences.Writer w = new PackedSequences.Writer(dir.resolve("a.bin"), 10, 4, FP)) {
            assertThatThrownBy(() -> w.append(10)).hasMessage("token id 10 is outside the vocabulary [0, 10)");
            assertThatThrownBy(() -> w.append(-1)).hasMessage("token id -1 is outside the vocabulary [0, 10)");
        }
    }

    @Test
    void anUncommittedWriterLeavesNoFile() throws IOException {
        Path target = dir.resolve("a.bin");
        try (PackedSequences.Writer w = new PackedSequences.Writer(target, 10, 2, FP)) {
            w.append(new int[] {1, 2, 3, 4, 5, 6}, 0, 6);
            w.finish();
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void commitReplacesAnOlderFileAtomically() {
        Path first = write("a.bin", 10, 2, new int[] {1, 1, 1});
        write("a.bin", 10, 2, new int[] {2, 2, 2, 2, 2, 2});
        assertThat(PackedSequences.load(first).sequenceCount()).isEqualTo(2);
    }

    @Test
    void packedFilesGetTheSamePermissionsAsAnyNewFile() throws IOException {
        Path packed = write("a.bin", 10, 2, new int[] {1, 2, 3});
        Path plain = Files.createFile(dir.resolve("plain"));
        assertThat(Files.getPosixFilePermissions(packed)).isEqualTo(Files.getPosixFilePermissions(plain));
    }

    // ---- validation on load ----

    private Path valid() {
        return write("v.bin", 100, 4, randomTokens(5 * 7, 100, 4));
    }

    private static void patch(Path file, int offset, byte[] bytes) throws IOException {
        byte[] all = Files.readAllBytes(file);
        System.arraycopy(bytes, 0, all, offset, bytes.length);
        Files.write(file, all);
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /** Recomputes the payload checksum, so that a test reaches the checks after it. */
    private static void fixChecksum(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        MessageDigest md = TokenizerFingerprint.sha256Digest();
        md.update(all, PackedSequences.HEADER_BYTES, all.length - PackedSequences.HEADER_BYTES);
        patch(file, 96, md.digest());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("none.bin");
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": packed-token file does not exist");
    }

    @Test
    void emptyFile() throws IOException {
        Path f = Files.createFile(dir.resolve("e.bin"));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": empty file (expected a flexmoe packed-token file)");
    }

    @Test
    void wrongMagic() throws IOException {
        Path f = valid();
        patch(f, 0, "GGUF".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": not a flexmoe packed-token file (expected magic \"FMOEPACK\" at offset 0)");
    }

    @Test
    void unsupportedVersion() throws IOException {
        Path f = valid();
        patch(f, 8, le32(2));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": format version 2 is not supported (this flexmoe reads version 1): pack the corpus"
                        + " again with `flexmoe data pack`");
    }

    @Test
    void truncatedHeader() throws IOException {
        Path f = valid();
        Files.write(f, Arrays.copyOf(Files.readAllBytes(f), 40));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": truncated: 40 bytes, shorter than the 128-byte header");
    }

    @Test
    void truncatedPayload() throws IOException {
        Path f = valid();
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 3));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": truncated: the header declares 7 sequences of 5 tokens (198 bytes with the header),"
                        + " the file has 195 bytes");
    }

    @Test
    void trailingBytes() throws IOException {
        Path f = valid();
        Files.write(f, new byte[] {0, 0}, java.nio.file.StandardOpenOption.APPEND);
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": 2 unexpected bytes after the 7 sequences of 5 tokens the header declares (198 bytes"
                        + " expected)");
    }

    @Test
    void sequenceCountThatDisagreesWithTheSize() throws IOException {
        Path f = valid();
        patch(f, 24, le64(8));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessageStartingWith(f + ": truncated: the header declares 8 sequences of 5 tokens");
    }

    @Test
    void absurdSequenceCount() throws IOException {
        Path f = valid();
        patch(f, 24, le64(Long.MAX_VALUE / 3));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessageContaining("is beyond any file size");
    }

    @Test
    void tokenWidthThatDisagreesWithTheVocabulary() throws IOException {
        Path f = valid();
        patch(f, 16, le32(4));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": header: token width 4 bytes, expected 2 for a vocabulary of 100");
    }

    @Test
    void badSequenceLength() throws IOException {
        Path f = valid();
        patch(f, 20, le32(0));
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": header: sequence length 0, expected 1.." + PackedSequences.MAX_SEQ_LEN);
    }

    @Test
    void damagedPayload() throws IOException {
        Path f = valid();
        byte[] all = Files.readAllBytes(f);
        all[PackedSequences.HEADER_BYTES + 5] ^= 1;
        Files.write(f, all);
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": payload checksum mismatch (the tokens were changed or damaged after packing)");
    }

    @Test
    void tokenOutsideTheVocabulary() throws IOException {
        Path f = valid();
        // sequence 1, position 2: token index 7, 2 bytes each
        patch(f, PackedSequences.HEADER_BYTES + 7 * 2, new byte[] {(byte) 100, 0});
        fixChecksum(f);
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": token id 100 at sequence 1, position 2 is outside the vocabulary [0, 100)");
    }

    @Test
    void negativeTokenIn32BitFile() throws IOException {
        Path f = write("w.bin", 70_000, 2, randomTokens(6, 70_000, 5));
        patch(f, PackedSequences.HEADER_BYTES, le32(-5));
        fixChecksum(f);
        assertThatThrownBy(() -> PackedSequences.load(f)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": token id -5 at sequence 0, position 0 is outside the vocabulary [0, 70000)");
    }

    @Test
    void vocabularyMismatchWithTheTokenizer() {
        Path f = valid();
        assertThatThrownBy(() -> PackedSequences.load(f, 4096, FP)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": packed for a vocabulary of 100 tokens, but the tokenizer has 4096: pack the corpus"
                        + " again with this tokenizer");
    }

    @Test
    void anotherTokenizersFingerprint() {
        Path f = valid();
        TokenizerFingerprint other = TokenizerFingerprint.ofBytes(new byte[] {9});
        assertThatThrownBy(() -> PackedSequences.load(f, 100, other)).isInstanceOf(PackFormatException.class)
                .hasMessage(f + ": packed with tokenizer " + FP.shortForm() + "..., not with this one ("
                        + other.shortForm() + "...): pack the corpus again with this tokenizer");
    }

    @Test
    void fingerprintOfBytesIsTheirSha256() {
        // SHA-256("abc"), FIPS 180-2 test vector
        assertThat(TokenizerFingerprint.ofBytes("abc".getBytes()).sha256())
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThatThrownBy(() -> new TokenizerFingerprint("xyz")).hasMessageStartingWith(
                "tokenizer fingerprint must be 64 lowercase hex digits");
    }
}
