package flexmoe.experiments.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * {@code MANIFEST.json} of a built corpus: what it was built from (recipe hash, packages with versions and
 * checksums, licences) and what it holds (bytes and documents per domain, source and split). It has no time stamp:
 * the same packages and recipe give the same bytes.
 *
 * @param name        the recipe's name
 * @param recipe      SHA-256 and revision of the recipe
 * @param budgetBytes the closed-domain byte budget it was built with
 * @param splitRule   how the per-split counts were computed (readers recompute the split from the text)
 * @param bytes       UTF-8 bytes of all documents' text (not of the JSONL files, which add quoting)
 * @param documents   number of documents
 * @param packages    every package read, in first-use order
 * @param domains     per domain, in recipe order
 */
@JsonPropertyOrder({"name", "recipe", "budgetBytes", "splitRule", "bytes", "documents", "packages", "domains"})
public record FlexMixManifest(String name, RecipeId recipe, long budgetBytes, String splitRule, long bytes, long documents,
                              List<PackageEntry> packages, Map<String, DomainEntry> domains) {

    public static final String FILE_NAME = "MANIFEST.json";

    public record RecipeId(String sha256, int revision) {
    }

    /**
     * One package as fetched.
     *
     * @param pinned true when the SHA-256 was checked against the recipe's pin (npm); Debian packages are recorded,
     *               not pinned, since the archive replaces versions
     */
    @JsonPropertyOrder({"registry", "name", "version", "file", "sha256", "pinned"})
    public record PackageEntry(String registry, String name, String version, String file, String sha256, boolean pinned) {
    }

    @JsonPropertyOrder({"budgetBytes", "bytes", "documents", "splits", "sources"})
    public record DomainEntry(long budgetBytes, long bytes, long documents, Map<String, Count> splits,
                              List<SourceEntry> sources) {
    }

    /**
     * One source of a domain.
     *
     * @param file               its documents, relative to the corpus directory
     * @param packages           {@code name@version} of the packages it was read from
     * @param files              package files read
     * @param availableDocuments documents after splitting and cleaning (and removing duplicates) before the budget
     * @param availableBytes     their bytes
     * @param droppedDocuments   documents the cleaner left empty or shorter than the recipe's minimum (HTML mails,
     *                           Info menus, headings of a table of contents); skipped documents are not counted
     * @param documents          documents selected for the corpus
     * @param bytes              their bytes
     */
    @JsonPropertyOrder({"id", "description", "licence", "file", "packages", "files", "availableDocuments",
            "availableBytes", "droppedDocuments", "documents", "bytes", "splits"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SourceEntry(String id, String description, String licence, String file, List<String> packages,
                              long files, long availableDocuments, long availableBytes, long droppedDocuments,
                              long documents, long bytes, Map<String, Count> splits) {
    }

    public record Count(long documents, long bytes) {

        Count plus(long moreDocuments, long moreBytes) {
            return new Count(documents + moreDocuments, bytes + moreBytes);
        }
    }
}
