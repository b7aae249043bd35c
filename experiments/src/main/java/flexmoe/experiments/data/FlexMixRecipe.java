package flexmoe.experiments.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What a FlexMix-style corpus is built from: per domain, the registry packages, the files inside them, how a file is
 * split into documents and how a document is cleaned. Pure data: {@link FlexMixMiniRecipe#standard()} is the default,
 * {@code --recipe FILE} reads the same structure from JSON, and {@link #sha256()} fingerprints it for the cache check.
 *
 * @param name             corpus name, written to the manifest
 * @param revision         bump when a cleaner or splitting rule changes its output, so cached builds are rebuilt
 * @param minDocumentBytes cleaned documents shorter than this many UTF-8 bytes are dropped (a heading from a table of
 *                         contents, a one-line mail) and counted
 * @param maxDocumentBytes documents above this many UTF-8 bytes are cut at paragraph (else line, sentence, word)
 *                         breaks; keeps every document well under the corpus reader's size cap
 * @param domains          the domains, public first by convention
 */
@JsonPropertyOrder({"name", "revision", "minDocumentBytes", "maxDocumentBytes", "domains"})
public record FlexMixRecipe(String name, int revision, int minDocumentBytes, int maxDocumentBytes, List<Domain> domains) {

    /** The domain every expert shares; its budget is a multiple of a closed domain's. */
    public static final String PUBLIC = "public";

    private static final Pattern DOMAIN_NAME = Pattern.compile("[a-z][a-z0-9_-]*");
    private static final Pattern SOURCE_ID = Pattern.compile("[a-z0-9][a-z0-9_.-]*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /**
     * One domain (a sub-directory of the corpus).
     *
     * @param name        directory name: {@code public}, {@code news}, ...
     * @param budgetShare this domain's byte budget as a multiple of the closed-domain budget ({@code --budget})
     * @param sources     what it is made of; the budget is shared between them as evenly as their sizes allow
     */
    @JsonPropertyOrder({"name", "budgetShare", "sources"})
    public record Domain(String name, double budgetShare, List<Source> sources) {
    }

    /**
     * One source: files from one or more packages, read the same way.
     *
     * @param id          file name of the source's documents in its domain directory ({@code <id>.jsonl})
     * @param description what the text is, for people reading the manifest
     * @param packages    registry packages the files come from
     * @param include     globs over paths inside the packages (npm: {@code package/...}; Debian: {@code usr/...}); a
     *                    file matching one is read; {@code .gz}/{@code .dz} files are decompressed
     * @param exclude     globs of files to leave out even if included
     * @param splitting   how one file becomes documents
     * @param cleaner     how one document is cleaned
     * @param licence     the licence of the text, as its authors or packagers state it
     */
    @JsonPropertyOrder({"id", "description", "packages", "include", "exclude", "splitting", "cleaner", "licence"})
    public record Source(String id, String description, List<Package> packages, List<String> include,
                         List<String> exclude, Splitting splitting, Cleaner cleaner, String licence) {
    }

    /**
     * A package on a registry.
     *
     * @param registry {@code npm} or {@code debian}
     * @param name     package name ({@code @scope/name} on npm)
     * @param version  npm: the exact version (npm versions are immutable); Debian: null, the archive's current version
     *                 is fetched and recorded in the manifest (Debian point releases replace versions)
     * @param sha256   npm: SHA-256 of the tarball {@code npm pack} writes, verified on every fetch; Debian: null
     */
    @JsonPropertyOrder({"registry", "name", "version", "sha256"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Package(Registry registry, String name, String version, String sha256) {

        public static Package npm(String name, String version, String sha256) {
            return new Package(Registry.NPM, name, version, sha256);
        }

        public static Package debian(String name) {
            return new Package(Registry.DEBIAN, name, null, null);
        }

        /** {@code name@version} for npm, {@code name} for Debian: how people and error messages refer to it. */
        public String label() {
            return version == null ? name : name + "@" + version;
        }
    }

    /** The package registries the builder fetches from, each with its own client. */
    public enum Registry {
        NPM, DEBIAN;

        @com.fasterxml.jackson.annotation.JsonValue
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Registry of(String id) {
            for (Registry r : values()) {
                if (r.id().equals(id)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("unknown registry '" + id + "': expected npm or debian");
        }
    }

    /**
     * How a file becomes documents.
     *
     * @param kind    {@code FILE}: the whole file; {@code HEADINGS}: a document starts at every line matching
     *                {@code pattern} (text before the first such line is front matter and dropped); {@code SEPARATOR}:
     *                lines matching {@code pattern} separate documents and are dropped
     * @param pattern a Java regular expression matched against whole lines (null for {@code FILE})
     * @param skip    optional: documents whose first line matches this regular expression are dropped (an index or a
     *                table of contents between two headings)
     */
    @JsonPropertyOrder({"kind", "pattern", "skip"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Splitting(Kind kind, String pattern, String skip) {

        public enum Kind { FILE, HEADINGS, SEPARATOR }

        public static Splitting file() {
            return new Splitting(Kind.FILE, null, null);
        }

        public static Splitting headings(String pattern) {
            return new Splitting(Kind.HEADINGS, pattern, null);
        }

        public static Splitting separator(String pattern) {
            return new Splitting(Kind.SEPARATOR, pattern, null);
        }

        /** The same splitting, also dropping documents whose first line matches {@code firstLine}. */
        public Splitting skipping(String firstLine) {
            return new Splitting(kind, pattern, firstLine);
        }
    }

    /** Domain names in recipe order. */
    public List<String> domainNames() {
        return domains.stream().map(Domain::name).toList();
    }

    /**
     * Checks that the recipe can be built: names usable as file names, every package fully described (npm pinned by
     * version and SHA-256), every source licensed, patterns that compile, a public domain.
     *
     * @throws FlexMixException naming the first problem
     */
    public FlexMixRecipe validate() {
        require(name != null && !name.isBlank(), "recipe: 'name' is missing");
        require(maxDocumentBytes >= 1024, "recipe: 'maxDocumentBytes' must be at least 1024, got " + maxDocumentBytes);
        require(minDocumentBytes >= 1 && minDocumentBytes < maxDocumentBytes,
                "recipe: 'minDocumentBytes' must be in [1, maxDocumentBytes), got " + minDocumentBytes);
        require(domains != null && !domains.isEmpty(), "recipe: no domains");
        Set<String> domainNames = new HashSet<>();
        for (Domain d : domains) {
            require(d.name() != null && DOMAIN_NAME.matcher(d.name()).matches(),
                    "recipe: domain name '" + d.name() + "' must match " + DOMAIN_NAME.pattern());
            require(domainNames.add(d.name()), "recipe: domain '" + d.name() + "' appears twice");
            require(d.budgetShare() > 0 && Double.isFinite(d.budgetShare()),
                    "recipe: domain '" + d.name() + "': budgetShare must be positive, got " + d.budgetShare());
            require(d.sources() != null && !d.sources().isEmpty(), "recipe: domain '" + d.name() + "' has no sources");
            Set<String> ids = new HashSet<>();
            for (Source s : d.sources()) {
                String where = "recipe: " + d.name() + "/" + s.id();
                require(s.id() != null && SOURCE_ID.matcher(s.id()).matches(),
                        "recipe: domain '" + d.name() + "': source id '" + s.id() + "' must match " + SOURCE_ID.pattern());
                require(ids.add(s.id()), where + " appears twice");
                require(s.licence() != null && !s.licence().isBlank(), where + ": 'licence' is missing");
                require(s.packages() != null && !s.packages().isEmpty(), where + ": no packages");
                require(s.include() != null && !s.include().isEmpty(), where + ": no 'include' globs");
                require(s.splitting() != null && s.splitting().kind() != null, where + ": 'splitting' is missing");
                require(s.cleaner() != null, where + ": 'cleaner' is missing");
                if (s.splitting().kind() != Splitting.Kind.FILE) {
                    require(s.splitting().pattern() != null, where + ": " + s.splitting().kind() + " splitting needs a 'pattern'");
                }
                for (String regex : java.util.Arrays.asList(s.splitting().pattern(), s.splitting().skip())) {
                    try {
                        if (regex != null) {
                            Pattern.compile(regex);
                        }
                    } catch (PatternSyntaxException e) {
                        throw new FlexMixException(where + ": splitting pattern '" + regex + "' does not compile: "
                                + e.getDescription());
                    }
                }
                for (Package p : s.packages()) {
                    require(p.registry() != null && p.name() != null && !p.name().isBlank(), where + ": a package lacks registry or name");
                    if (p.registry() == Registry.NPM) {
                        require(p.version() != null && !p.version().isBlank(),
                                where + ": npm package " + p.name() + " needs an exact 'version'");
                        require(p.sha256() != null && SHA256.matcher(p.sha256()).matches(),
                                where + ": npm package " + p.label() + " needs a pinned 'sha256' (64 lower-case hex digits)");
                    }
                }
                for (String glob : concat(s.include(), s.exclude())) {
                    try {
                        ArchiveFiles.matcher(glob);
                    } catch (IllegalArgumentException e) {
                        throw new FlexMixException(where + ": bad glob '" + glob + "': " + e.getMessage());
                    }
                }
            }
        }
        require(domainNames.contains(PUBLIC), "recipe: no '" + PUBLIC + "' domain (the tokenizer and public model train on it)");
        return this;
    }

    /** SHA-256 (hex) of the recipe's canonical JSON: same recipe, same hash. */
    public String sha256() {
        try {
            return Hashing.sha256Hex(canonicalJson().writeValueAsBytes(this));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("recipe does not serialise", e);
        }
    }

    /** The mapper that reads and writes recipes: fixed property order, pretty-printed. */
    public static ObjectMapper canonicalJson() {
        return JsonMapper.builder()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                .build();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b == null ? java.util.stream.Stream.empty() : b.stream()).toList();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new FlexMixException(message);
        }
    }
}
