package flexmoe.moe.artifact;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Identifies an artifact: the SHA-256 of its file's bytes, all of them (length prefix, header with metadata,
 * data). An expert records the fingerprint of the public model it was trained against and composing it with any
 * other public model is refused. The bytes of the file are hashed, not a canonical form of the tensors, because
 * that is exact and checkable with {@code sha256sum}: a public model whose metadata or router embedding changed is
 * another public model.
 *
 * @param sha256 64 lowercase hex digits
 */
public record ArtifactFingerprint(String sha256) {

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public ArtifactFingerprint {
        if (sha256 == null || !HEX64.matcher(sha256).matches()) {
            throw new IllegalArgumentException("an artifact fingerprint is 64 lowercase hex digits (SHA-256), got '"
                    + sha256 + "'");
        }
    }

    /** From the 32 raw digest bytes. */
    public static ArtifactFingerprint ofDigest(byte[] digest) {
        if (digest.length != 32) {
            throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, got " + digest.length);
        }
        return new ArtifactFingerprint(HexFormat.of().formatHex(digest));
    }

    /** First 12 hex digits, for messages and tables. */
    public String shortForm() {
        return sha256.substring(0, 12);
    }

    @Override
    public String toString() {
        return "sha256:" + sha256;
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
