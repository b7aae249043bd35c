package flexmoe.experiments.data;

import java.util.List;

/**
 * Which split (train, valid, test) a document belongs to, for the per-split counts of the manifest. The corpus itself
 * stores no split: readers recompute it from the text with the same rule, so it survives added documents.
 */
@FunctionalInterface
public interface SplitRule {

    /** The splits in the order the manifest lists them. */
    List<String> SPLITS = List.of("train", "valid", "test");

    /**
     * The corpus format's rule: the first 53 bits of SHA-256 of the UTF-8 text as a fraction {@code u} in [0, 1);
     * {@code u < 0.90} train, {@code u < 0.95} valid, else test.
     */
    SplitRule HASH_90_5_5 = utf8 -> {
        byte[] h = Hashing.digest().digest(utf8);
        long bits = 0;
        for (int k = 0; k < 8; k++) {
            bits = (bits << 8) | (h[k] & 0xFF);
        }
        double u = (bits >>> 11) * 0x1.0p-53;
        return u < 0.90 ? "train" : u < 0.95 ? "valid" : "test";
    };

    /** {@code train}, {@code valid} or {@code test} for a document with this UTF-8 text. */
    String splitOf(byte[] utf8);
}
