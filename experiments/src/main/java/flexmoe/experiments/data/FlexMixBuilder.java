package flexmoe.experiments.data;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import flexmoe.moe.data.Split;
import flexmoe.moe.data.SplitFractions;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Builds a corpus from a {@link FlexMixRecipe}: fetch each package (npm tarballs checked against their pinned
 * SHA-256), read the chosen files, split them into documents, clean, cut oversized documents, drop duplicates, select
 * each domain's byte budget, and write the corpus format (one directory per domain, one {@code <source>.jsonl} per
 * source with a {@code {"text": ...}} object per line) plus {@code MANIFEST.json}.
 *
 * <p>The output appears whole or not at all: everything is written into a temporary directory next to {@code out}
 * and renamed into place at the end; a failure removes the temporary directory and leaves an earlier build alone. A
 * build whose manifest names the same recipe hash and budget is up to date and not redone.
 */
public final class FlexMixBuilder {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final ObjectMapper JSONL = JsonMapper.builder()
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET).build();

    private final FlexMixRecipe recipe;
    private final PackageFetcher fetcher;
    private final SplitFractions splitFractions;
    private final Consumer<String> log;

    /**
     * @param log receives one progress line per package and source (the CLI prints them on stderr)
     */
    public FlexMixBuilder(FlexMixRecipe recipe, PackageFetcher fetcher, SplitFractions splitFractions, Consumer<String> log) {
        this.recipe = recipe.validate();
        this.fetcher = fetcher;
        this.splitFractions = splitFractions;
        this.log = log;
    }

    /**
     * What a build did.
     *
     * @param upToDate true when {@code out} already held this recipe's build and nothing was done
     */
    public record Result(Path out, boolean upToDate, String recipeSha256, FlexMixManifest manifest) {
    }

    /**
     * Builds the corpus into {@code out} unless it is up to date.
     *
     * @param budgetBytes byte budget of each closed domain; a domain gets {@code budgetShare} times this
     * @param force       rebuild even if up to date
     */
    public Result build(Path out, long budgetBytes, boolean force) {
        if (budgetBytes < 1) {
            throw new FlexMixException("--budget must be a positive number of bytes, got " + budgetBytes);
        }
        Path target = out.toAbsolutePath().normalize();
        String recipeSha256 = recipe.sha256();
        FlexMixManifest existing = existingBuild(target);
        if (existing != null && !force && existing.recipe().sha256().equals(recipeSha256)
                && existing.budgetBytes() == budgetBytes) {
            return new Result(target, true, recipeSha256, existing);
        }
        Path parent = target.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
            FlexMixManifest manifest = buildInto(tmp, budgetBytes, recipeSha256);
            replace(target, tmp);
            tmp = null;
            return new Result(target, false, recipeSha256, manifest);
        } catch (IOException e) {
            throw new FlexMixException("writing " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                FileTrees.deleteQuietly(tmp);
            }
        }
    }

    /** The manifest of an earlier build in {@code out}; null if there is none; an error if {@code out} is something else. */
    private static FlexMixManifest existingBuild(Path out) {
        if (!Files.exists(out)) {
            return null;
        }
        Path manifest = out.resolve(FlexMixManifest.FILE_NAME);
        if (!Files.isDirectory(out) || !Files.isRegularFile(manifest)) {
            throw new FlexMixException(out + " exists and is not a FlexMix build (no " + FlexMixManifest.FILE_NAME
                    + "); choose another --out or remove it");
        }
        try {
            JsonNode node = JSON.readTree(manifest.toFile());
            return JSON.treeToValue(node, FlexMixManifest.class);
        } catch (IOException e) {
            // A damaged manifest: rebuild (the directory is ours, its manifest says so by name).
            return new FlexMixManifest("", new FlexMixManifest.RecipeId("", 0), -1, "", 0, 0, List.of(), Map.of());
        }
    }

    /** Puts the finished {@code built} directory at {@code target}, replacing an earlier build. */
    private static void replace(Path target, Path built) throws IOException {
        if (!Files.exists(target)) {
            Files.move(built, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Path old = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(built, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        FileTrees.deleteQuietly(old);
    }

    private FlexMixManifest buildInto(Path dir, long budgetBytes, String recipeSha256) throws IOException {
        Map<String, FlexMixManifest.PackageEntry> packages = new LinkedHashMap<>();
        Map<String, Path> files = new HashMap<>();
        Map<String, FlexMixManifest.DomainEntry> domains = new LinkedHashMap<>();
        long totalBytes = 0;
        long totalDocuments = 0;
        for (FlexMixRecipe.Domain domain : recipe.domains()) {
            long domainBudget = Math.round(budgetBytes * domain.budgetShare());
            List<SourceDocuments> sources = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (FlexMixRecipe.Source source : domain.sources()) {
                List<String> labels = new ArrayList<>();
                for (FlexMixRecipe.Package pkg : source.packages()) {
                    fetchAndVerify(pkg, packages, files);
                    labels.add(pkg.name() + "@" + packages.get(key(pkg)).version());
                }
                SourceDocuments docs = read(source, files, labels, seen);
                sources.add(docs);
            }
            List<List<BudgetSelection.Candidate>> candidates = sources.stream().map(SourceDocuments::candidates).toList();
            List<List<Integer>> selected = BudgetSelection.select(candidates, domainBudget);

            Path domainDir = Files.createDirectories(dir.resolve(domain.name()));
            List<FlexMixManifest.SourceEntry> sourceEntries = new ArrayList<>();
            Map<String, FlexMixManifest.Count> domainSplits = emptySplits();
            long domainBytes = 0;
            long domainDocuments = 0;
            for (int k = 0; k < sources.size(); k++) {
                SourceDocuments docs = sources.get(k);
                FlexMixRecipe.Source source = docs.source();
                Map<String, FlexMixManifest.Count> splits = emptySplits();
                long bytes = 0;
                String file = domain.name() + "/" + source.id() + ".jsonl";
                try (OutputStream os = Files.newOutputStream(dir.resolve(file))) {
                    for (int index : selected.get(k)) {
                        String text = docs.texts().get(index);
                        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
                        JSONL.writeValue(os, Map.of("text", text));
                        os.write('\n');
                        String split = splitFractions.splitOf(utf8).id();
                        splits.merge(split, new FlexMixManifest.Count(1, utf8.length), (a, b) -> a.plus(b.documents(), b.bytes()));
                        domainSplits.merge(split, new FlexMixManifest.Count(1, utf8.length), (a, b) -> a.plus(b.documents(), b.bytes()));
                        bytes += utf8.length;
                    }
                }
                int documents = selected.get(k).size();
                sourceEntries.add(new FlexMixManifest.SourceEntry(source.id(), source.description(), source.licence(), file,
                        docs.packages(), docs.files(), docs.texts().size(), docs.availableBytes(), docs.dropped(), documents,
                        bytes, splits));
                domainBytes += bytes;
                domainDocuments += documents;
                log.accept(String.format(Locale.ROOT, "%s/%s: %d of %d documents, %s of %s", domain.name(), source.id(),
                        documents, docs.texts().size(), megabytes(bytes), megabytes(docs.availableBytes())));
            }
            if (domainDocuments == 0) {
                throw new FlexMixException("domain '" + domain.name() + "' has no documents: its sources "
                        + domain.sources().stream().map(FlexMixRecipe.Source::id).toList()
                        + " gave no text (check their include globs and cleaners)");
            }
            log.accept(String.format(Locale.ROOT, "%s: %d documents, %s (budget %s)", domain.name(), domainDocuments,
                    megabytes(domainBytes), megabytes(domainBudget)));
            domains.put(domain.name(), new FlexMixManifest.DomainEntry(domainBudget, domainBytes, domainDocuments, domainSplits,
                    sourceEntries));
            totalBytes += domainBytes;
            totalDocuments += domainDocuments;
        }
        FlexMixManifest manifest = new FlexMixManifest(recipe.name(),
                new FlexMixManifest.RecipeId(recipeSha256, recipe.revision()), budgetBytes,
                splitFractions.describeRule(),
                totalBytes, totalDocuments, List.copyOf(packages.values()), domains);
        JSON.writeValue(dir.resolve(FlexMixManifest.FILE_NAME).toFile(), manifest);
        return manifest;
    }

    private void fetchAndVerify(FlexMixRecipe.Package pkg, Map<String, FlexMixManifest.PackageEntry> packages,
                                Map<String, Path> files) throws IOException {
        String key = key(pkg);
        if (packages.containsKey(key)) {
            return;
        }
        Path file = fetcher.fetch(pkg);
        String sha256 = Hashing.sha256Hex(file);
        String version = pkg.version();
        boolean pinned = pkg.registry() == FlexMixRecipe.Registry.NPM;
        if (pinned && !sha256.equals(pkg.sha256())) {
            throw new FlexMixException("npm package " + pkg.label() + " (" + file + "): SHA-256 is " + sha256
                    + ", the recipe pins " + pkg.sha256() + "; the download is not the pinned package (delete it to"
                    + " fetch again)");
        }
        if (version == null) {
            version = PackageFetcher.debianVersion(file.getFileName().toString());
            if (version == null) {
                throw new FlexMixException(file + ": expected a Debian package file named " + pkg.name()
                        + "_VERSION_ARCH.deb");
            }
        }
        log.accept(String.format(Locale.ROOT, "%s %s@%s: %s, sha256 %s%s", pkg.registry().id(), pkg.name(), version,
                megabytes(Files.size(file)), sha256.substring(0, 12), pinned ? " (matches pin)" : ""));
        packages.put(key, new FlexMixManifest.PackageEntry(pkg.registry().id(), pkg.name(), version,
                file.getFileName().toString(), sha256, pinned));
        files.put(key, file);
    }

    /** A source's documents after splitting, cleaning and duplicate removal (within the domain), in source order. */
    private record SourceDocuments(FlexMixRecipe.Source source, List<String> packages, long files, List<String> texts,
                                   List<BudgetSelection.Candidate> candidates, long availableBytes, long dropped) {
    }

    private SourceDocuments read(FlexMixRecipe.Source source, Map<String, Path> files, List<String> labels,
                                 Set<String> seenInDomain) {
        Predicate<String> wanted = ArchiveFiles.selection(source.include(), source.exclude());
        List<String> texts = new ArrayList<>();
        List<BudgetSelection.Candidate> candidates = new ArrayList<>();
        long fileCount = 0;
        long availableBytes = 0;
        long dropped = 0;
        for (FlexMixRecipe.Package pkg : source.packages()) {
            Path archive = files.get(key(pkg));
            for (ArchiveFiles.Entry entry : ArchiveFiles.read(archive, wanted)) {
                fileCount++;
                String text = TextNormaliser.decode(entry.bytes());
                for (String raw : DocumentSplitter.split(text, source.splitting())) {
                    String cleaned;
                    try {
                        cleaned = source.cleaner().clean(raw);
                    } catch (RuntimeException e) {
                        throw new FlexMixException(pkg.label() + ": " + entry.path() + ": " + source.cleaner()
                                + " cleaner failed: " + e.getMessage(), e);
                    }
                    if (DocumentSplitter.utf8Length(cleaned) < recipe.minDocumentBytes()) {
                        dropped++;
                        continue;
                    }
                    for (String piece : DocumentSplitter.chunk(cleaned, recipe.maxDocumentBytes())) {
                        byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
                        byte[] sha = Hashing.digest().digest(utf8);
                        if (!seenInDomain.add(java.util.HexFormat.of().formatHex(sha))) {
                            continue;
                        }
                        candidates.add(new BudgetSelection.Candidate(texts.size(), utf8.length, selectionOrder(sha)));
                        texts.add(piece);
                        availableBytes += utf8.length;
                    }
                }
            }
        }
        if (fileCount == 0) {
            throw new FlexMixException("source " + source.id() + ": no file in " + labels + " matches " + source.include()
                    + (source.exclude() == null || source.exclude().isEmpty() ? "" : " minus " + source.exclude()));
        }
        return new SourceDocuments(source, labels, fileCount, texts, candidates, availableBytes, dropped);
    }

    /**
     * Bytes 24..31 of the text's SHA-256. The split rule reads the first bytes; ordering by the same bytes would put
     * every selected document of a partly used source into the train split.
     */
    private static long selectionOrder(byte[] sha256) {
        long v = 0;
        for (int k = 24; k < 32; k++) {
            v = (v << 8) | (sha256[k] & 0xFF);
        }
        return v ^ Long.MIN_VALUE;
    }

    private static Map<String, FlexMixManifest.Count> emptySplits() {
        Map<String, FlexMixManifest.Count> splits = new LinkedHashMap<>();
        for (Split s : Split.values()) {
            splits.put(s.id(), new FlexMixManifest.Count(0, 0));
        }
        return splits;
    }

    private static String key(FlexMixRecipe.Package pkg) {
        return pkg.registry().id() + ":" + pkg.label();
    }

    static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.2f MB", bytes / 1e6);
    }

    /** Reads a recipe from JSON ({@code --recipe FILE}); the structure {@code --print-recipe} shows. */
    public static FlexMixRecipe readRecipe(Path file) {
        try {
            return FlexMixRecipe.canonicalJson().readValue(file.toFile(), FlexMixRecipe.class).validate();
        } catch (IOException e) {
            throw new FlexMixException(file + ": not a valid recipe: " + e.getMessage().lines().findFirst().orElse(""), e);
        } catch (UncheckedIOException e) {
            throw new FlexMixException(file + ": " + e.getMessage(), e);
        }
    }
}
