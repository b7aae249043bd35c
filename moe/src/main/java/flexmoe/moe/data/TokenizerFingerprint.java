package flexmoe.moe.data;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Identifies the tokenizer that produced a token stream: the SHA-256 of its canonical saved form
 * ({@link flexmoe.moe.tokenizer.Tokenizer#fingerprint()}). Packed files carry it so that a model never trains or evaluates on ids from another
 * tokenizer.
 *
 * @param sha256 64 lowercase hex digits
 */
public record TokenizerFingerprint(String sha256) {

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public TokenizerFingerprint {
        if (sha256 == null || !HEX64.matcher(sha256).matches()) {
            throw new IllegalArgumentException("tokenizer fingerprint must be 64 lowercase hex digits (SHA-256), got '"
                    + sha256 + "'");
        }
    }

    /** SHA-256 of a tokenizer's serialized bytes. */
    public static TokenizerFingerprint ofBytes(byte[] serialized) {
        return new TokenizerFingerprint(HexFormat.of().formatHex(sha256Digest().digest(serialized)));
    }

    /** From the 32 raw digest bytes, as stored in a packed file's header. */
    public static TokenizerFingerprint ofDigest(byte[] digest) {
        if (digest.length != 32) {
            throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, got " + digest.length);
        }
        return new TokenizerFingerprint(HexFormat.of().formatHex(digest));
    }

    /** The 32 raw digest bytes. */
    public byte[] digest() {
        return HexFormat.of().parseHex(sha256);
    }

    /** First 12 hex digits, for messages. */
    public String shortForm() {
        return sha256.substring(0, 12);
    }

    @Override
    public String toString() {
        return "sha256:" + sha256;
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
