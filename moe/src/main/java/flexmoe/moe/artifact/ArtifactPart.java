package flexmoe.moe.artifact;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.regex.Pattern;

/**
 * What one trained part of a model (the public model or one expert) records about itself.
 *
 * @param domain      the data it was trained on: a corpus domain name (letters, digits, {@code -}, {@code _}); in a
 *                    composed model also the expert's name for {@code --experts} / {@code --exclude}
 * @param tokensSeen  training tokens it has seen (for an expert: in expert training only)
 * @param seed        the seed of its training run
 * @param privacy     its differential-privacy guarantee, or null when it was trained without DP (the DP issue defines
 *                    the object's fields; artifacts carry it verbatim)
 * @param training    the settings of its training run that are not in the model config (e.g. an expert's learning
 *                    rate, router learning-rate scale, bias init, router embedding), or null when not recorded
 *                    (files written before the field existed); carried verbatim
 * @param fingerprint the fingerprint of the file it came from; set for the parts of a composed model, null in the
 *                    public or expert file that describes itself
 */
public record ArtifactPart(String domain, long tokensSeen, long seed, ObjectNode privacy, ObjectNode training,
                           ArtifactFingerprint fingerprint) {

    /** The corpus's rule for domain names (moe.data.Corpus). */
    static final Pattern DOMAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");
    static final int MAX_DOMAIN_LENGTH = 64;

    public ArtifactPart {
        if (domain == null || domain.length() > MAX_DOMAIN_LENGTH || !DOMAIN_NAME.matcher(domain).matches()) {
            throw new IllegalArgumentException("domain must be 1 to " + MAX_DOMAIN_LENGTH + " letters, digits, '-' or"
                    + " '_', starting with a letter or digit, got " + (domain == null ? "null"
                    : SafeTensors.quote(domain)));
        }
        if (tokensSeen < 0) {
            throw new IllegalArgumentException("tokensSeen must be non-negative, got " + tokensSeen);
        }
        privacy = privacy == null ? null : privacy.deepCopy();
        training = training == null ? null : training.deepCopy();
    }

    /** A part that describes its own file (no fingerprint). */
    public static ArtifactPart of(String domain, long tokensSeen, long seed, ObjectNode privacy) {
        return new ArtifactPart(domain, tokensSeen, seed, privacy, null, null);
    }

    @Override
    public ObjectNode privacy() {
        return privacy == null ? null : privacy.deepCopy();
    }

    @Override
    public ObjectNode training() {
        return training == null ? null : training.deepCopy();
    }

    /** The same part with its training settings recorded. */
    public ArtifactPart withTraining(ObjectNode settings) {
        return new ArtifactPart(domain, tokensSeen, seed, privacy, settings, fingerprint);
    }

    /** The same part, recorded with the fingerprint of the file it came from. */
    public ArtifactPart withFingerprint(ArtifactFingerprint file) {
        return new ArtifactPart(domain, tokensSeen, seed, privacy, training, file);
    }
}
