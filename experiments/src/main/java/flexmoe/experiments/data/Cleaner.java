package flexmoe.experiments.data;

import java.util.function.UnaryOperator;

/**
 * How a document of a source is cleaned before {@link TextNormaliser#normalise normalisation}. A cleaner may return an
 * empty string: the document is then dropped and counted in the manifest.
 */
public enum Cleaner {
    /** Plain text as it is (Jargon File, Moby-Dick, State of the Union, C++ Annotations, Devil's Dictionary). */
    PLAIN(UnaryOperator.identity()),
    /** Source code as it is: indentation and blank lines carry meaning. */
    CODE(UnaryOperator.identity()),
    /** Brown Corpus {@code word/tag} tokens to running text. */
    BROWN(BrownCleaner::clean),
    /** RFC 822 mails to forum posts: subject and body, no headers, quotes, signatures, addresses or URLs. */
    MAIL(MailCleaner::clean),
    /** LaTeX and Sweave to text: markup and code chunks out, math kept. */
    TEX(TexCleaner::clean),
    /** GNU Info nodes to text: node headers and menus out. */
    INFO(InfoCleaner::clean),
    /** CIA World Factbook country JSON: the long {@code "text"} fields. */
    FACTBOOK(FactbookCleaner::clean),
    /** reStructuredText (Sphinx) to text: roles, targets and index directives out. */
    REST(RestCleaner::clean);

    private final UnaryOperator<String> clean;

    Cleaner(UnaryOperator<String> clean) {
        this.clean = clean;
    }

    /** The cleaned, normalised document; empty when nothing worth keeping is left. */
    public String clean(String document) {
        return TextNormaliser.normalise(clean.apply(document.replace("\r\n", "\n").replace('\r', '\n')));
    }
}
