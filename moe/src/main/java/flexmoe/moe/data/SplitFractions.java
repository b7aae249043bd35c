package flexmoe.moe.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Fractions of documents in train / valid / test, and the rule that puts a document in one of them.
 *
 * <p>A document's split depends only on its text: the first 53 bits of SHA-256 of its UTF-8 bytes give a position
 * {@code u} uniform in [0, 1); {@code u < train} is train, {@code u < train + valid} is valid, the rest is test. So the
 * split does not depend on file names or order, adding documents never moves existing ones, and identical duplicates
 * always land together (no train/test leakage through exact copies; near-duplicates can still straddle splits).
 * Changing the fractions moves only the documents whose position lies between the old and new thresholds.
 */
public record SplitFractions(double train, double valid, double test) {

    /** 90 / 5 / 5. */
    public static final SplitFractions DEFAULT = new SplitFractions(0.9, 0.05, 0.05);

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(SplitFractions::sha256);

    public SplitFractions {
        for (double f : new double[] {train, valid, test}) {
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException("split fractions must each be in [0, 1], got " + describe(train, valid, test));
            }
        }
        if (Math.abs(train + valid + test - 1) > 1e-9) {
            throw new IllegalArgumentException("split fractions must add up to 1, got " + describe(train, valid, test));
        }
    }

    /** Parses {@code "0.9,0.05,0.05"} (train, valid, test). */
    public static SplitFractions parse(String text) {
        String[] parts = text.split(",", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("split fractions: expected three numbers train,valid,test (e.g. 0.9,0.05,0.05), got '"
                    + text + "'");
        }
        double[] f = new double[3];
        for (int i = 0; i < 3; i++) {
            try {
                f[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("split fractions: '" + parts[i].strip() + "' is not a number (in '" + text + "')");
            }
        }
        return new SplitFractions(f[0], f[1], f[2]);
    }

    /** The split of a document with this text. */
    public Split splitOf(String text) {
        return splitOf(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The split of a document whose text has these UTF-8 bytes. */
    public Split splitOf(byte[] utf8) {
        double u = position(utf8);
        if (u < train) {
            return Split.TRAIN;
        }
        return u < train + valid ? Split.VALID : Split.TEST;
    }

    /** The document's position in [0, 1): the first 53 bits of SHA-256 of its UTF-8 bytes, as a fraction. */
    public static double position(byte[] utf8) {
        MessageDigest md = SHA256.get();
        md.reset();
        byte[] h = md.digest(utf8);
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (h[i] & 0xFF);
        }
        return (bits >>> 11) * 0x1.0p-53;
    }

    /** The rule in words, for manifests: which bits, which thresholds. */
    public String describeRule() {
        return String.format(java.util.Locale.ROOT,
                "sha256(UTF-8 text): first 53 bits as a fraction u; u < %.6g train, u < %.6g valid, else test",
                train, train + valid);
    }

    @Override
    public String toString() {
        return train + "," + valid + "," + test;
    }

    private static String describe(double train, double valid, double test) {
        return "train " + train + ", valid " + valid + ", test " + test;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
