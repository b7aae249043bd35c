package flexmoe.moe.data;

/**
 * One document of a corpus domain.
 *
 * @param domain the domain (sub-directory name of the corpus, e.g. {@code public}, {@code math})
 * @param source where it came from, for error messages and provenance: {@code file} or {@code file:line}
 * @param text   the document's text (valid UTF-8, non-empty)
 */
public record Document(String domain, String source, String text) {
}
