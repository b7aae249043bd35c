package flexmoe.moe.data;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * A corpus the user brings: a directory with one sub-directory per domain.
 *
 * <pre>
 * corpus/
 *   public/   web.jsonl.gz  books/a.txt  books/b.txt ...
 *   news/     2020.jsonl  2021.jsonl
 *   math/     ...
 * </pre>
 *
 * <ul>
 *   <li>Domains are the non-hidden sub-directories, sorted by name; names use letters, digits, {@code -} and
 *       {@code _} (they become file names such as {@code news.train.bin}). Files directly in the corpus directory
 *       (e.g. {@code MANIFEST.json}) are not part of any domain.</li>
 *   <li>A domain's files are found recursively (sub-folders are fine) and read in order of their path relative to the
 *       corpus directory, so reading is deterministic. Hidden files and folders (name starting with {@code .}) are
 *       skipped; files with other extensions are listed in the report as ignored.</li>
 *   <li>{@code .txt}: the whole file is one document. {@code .jsonl}: one document per line, the string field
 *       {@code text} of a JSON object (other fields are ignored; blank lines are allowed and skipped). Either may be
 *       gzip-compressed as {@code .txt.gz} / {@code .jsonl.gz}. Text is strict UTF-8; a leading byte-order mark is
 *       dropped. A document's text is kept exactly as written (line endings, trailing newline).</li>
 * </ul>
 *
 * <p>Problems with single documents are skipped and counted ({@link SkipReason}: invalid UTF-8, a JSONL line that is
 * not a JSON object or has no string {@code text}, an empty or whitespace-only document, a document over
 * {@link CorpusOptions#maxDocumentBytes()}); the {@link DomainReport} has the counts and the first few locations, and
 * {@link CorpusOptions#strict()} turns them into errors. Fatal ({@link CorpusException}): a missing corpus directory,
 * no domains, a domain without corpus files, a file that cannot be read (permissions, corrupt gzip), and a domain in
 * which every document was skipped — a corpus is never silently empty.
 *
 * <p>Documents are streamed file by file; nothing holds more than one file (.txt) or one line (.jsonl) in memory.
 * Each document's split comes from a hash of its text ({@link SplitFractions}), so reading one split still reads the
 * whole domain.
 */
public final class Corpus {

    /** A valid domain name: it becomes part of file names. */
    private static final Pattern DOMAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

    private static final String SUPPORTED = ".txt, .jsonl, .txt.gz or .jsonl.gz";

    private final Path dir;
    private final CorpusOptions options;
    private final Map<String, DomainFiles> domains;

    /** Called while a domain is read, with on-disk (compressed) bytes read so far and the domain's total. */
    @FunctionalInterface
    public interface ReadProgress {
        void update(long fileBytesRead, long fileBytesTotal);
    }

    /** One corpus file: its path relative to the corpus directory fixes the reading order. */
    record CorpusFile(String relative, Path path, boolean jsonl, boolean gzip, long size) {
    }

    private record DomainFiles(String name, Path dir, List<CorpusFile> files, List<String> ignored) {
    }

    private Corpus(Path dir, CorpusOptions options, Map<String, DomainFiles> domains) {
        this.dir = dir;
        this.options = options;
        this.domains = domains;
    }

    /** Opens the corpus with {@link CorpusOptions#defaults()}. */
    public static Corpus open(Path dir) {
        return open(dir, CorpusOptions.defaults());
    }

    /**
     * Lists the corpus's domains and files (nothing is read yet).
     *
     * @throws CorpusException if the directory is missing, has no domains, or a domain has no readable corpus files
     */
    public static Corpus open(Path dir, CorpusOptions options) {
        if (!Files.exists(dir)) {
            throw new CorpusException("corpus directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new CorpusException("corpus " + dir + " is not a directory (expected a directory with one sub-directory"
                    + " per domain)");
        }
        List<Path> subdirs;
        try (Stream<Path> entries = Files.list(dir)) {
            subdirs = entries.filter(Files::isDirectory).filter(p -> !hidden(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new CorpusException("corpus directory " + dir + " cannot be read: " + e.getMessage(), e);
        }
        if (subdirs.isEmpty()) {
            throw new CorpusException("corpus directory " + dir + " has no domain sub-directories (expected one per domain,"
                    + " e.g. " + dir.resolve("public") + ", holding " + SUPPORTED + " files)");
        }
        Map<String, DomainFiles> domains = new LinkedHashMap<>();
        for (Path sub : subdirs) {
            String name = sub.getFileName().toString();
            if (!DOMAIN_NAME.matcher(name).matches()) {
                throw new CorpusException("corpus domain directory " + sub + ": name '" + name + "' is not allowed"
                        + " (domain names use letters, digits, '-' and '_', and start with a letter or digit)");
            }
            domains.put(name, listDomain(dir, name, sub));
        }
        return new Corpus(dir, options, Collections.unmodifiableMap(domains));
    }

    public Path dir() {
        return dir;
    }

    public CorpusOptions options() {
        return options;
    }

    /** Domain names, sorted. */
    public List<String> domains() {
        return List.copyOf(domains.keySet());
    }

    /** The corpus files of a domain, in reading order. */
    public List<Path> files(String domain) {
        return domain(domain).files.stream().map(CorpusFile::path).toList();
    }

    /** On-disk size of a domain's corpus files (compressed size for .gz). */
    public long fileBytes(String domain) {
        return domain(domain).files.stream().mapToLong(CorpusFile::size).sum();
    }

    /**
     * Checks that every name is a domain of this corpus.
     *
     * @throws CorpusException naming the first unknown domain and listing the corpus's domains
     */
    public void requireDomains(List<String> names) {
        for (String name : names) {
            domain(name);
        }
    }

    /** Reads every domain (without keeping documents) and reports what it found. */
    public CorpusReport inspect() {
        List<DomainReport> reports = new ArrayList<>();
        for (String domain : domains.keySet()) {
            reports.add(forEachDocument(domain, (split, doc) -> { }));
        }
        return new CorpusReport(reports);
    }

    /** Streams the documents of one split of a domain, in corpus order. */
    public DomainReport forEachDocument(String domain, Split split, Consumer<? super Document> action) {
        return forEachDocument(domain, (s, doc) -> {
            if (s == split) {
                action.accept(doc);
            }
        });
    }

    /** Streams every document of a domain with its split, in corpus order. */
    public DomainReport forEachDocument(String domain, BiConsumer<Split, ? super Document> action) {
        return forEachDocument(domain, action, (read, total) -> { });
    }

    /**
     * Streams every document of a domain with its split, in corpus order (files by relative path, lines in order).
     *
     * @return the counts of documents per split and of skipped documents per reason
     * @throws CorpusException if a file cannot be read, if strict mode meets a bad document, or if the domain has no
     *                         usable document at all
     */
    public DomainReport forEachDocument(String domain, BiConsumer<Split, ? super Document> action, ReadProgress progress) {
        DomainFiles d = domain(domain);
        DomainReport.Tally tally = new DomainReport.Tally(d.name, d.files.size(), d.ignored);
        DocumentReader reader = new DocumentReader(options, d.name, tally, action);
        long total = d.files.stream().mapToLong(CorpusFile::size).sum();
        long done = 0;
        for (CorpusFile f : d.files) {
            long before = done;
            try (CountingInputStream raw = new CountingInputStream(Files.newInputStream(f.path),
                    n -> progress.update(before + n, total));
                 InputStream in = f.gzip ? new GZIPInputStream(raw, 1 << 16) : new BufferedInputStream(raw, 1 << 16)) {
                if (f.jsonl) {
                    reader.readJsonl(f, in);
                } else {
                    reader.readTxt(f, in);
                }
                done = before + raw.count;
            } catch (IOException e) {
                throw new CorpusException(f.path + ": cannot read" + (f.gzip ? " (gzip)" : "") + ": " + oneLine(e), e);
            }
            progress.update(done, total);
        }
        DomainReport report = tally.report();
        if (report.documents() == 0) {
            throw new CorpusException("domain '" + d.name + "' (" + d.dir + ") has no usable documents: "
                    + (report.skippedTotal() == 0
                            ? "its " + d.files.size() + " file(s) hold no documents"
                            : "all " + report.skippedTotal() + " skipped (" + report.skipSummary() + "); first: "
                                    + report.problems().getFirst()));
        }
        return report;
    }

    private DomainFiles domain(String name) {
        DomainFiles d = domains.get(name);
        if (d == null) {
            throw new CorpusException("corpus " + dir + " has no domain '" + name + "' (it has: "
                    + String.join(", ", domains.keySet()) + ")");
        }
        return d;
    }

    private static DomainFiles listDomain(Path root, String name, Path domainDir) {
        List<CorpusFile> files = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        try {
            Files.walkFileTree(domainDir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                            return !d.equals(domainDir) && hidden(d) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                            if (hidden(file) || !attrs.isRegularFile()) {
                                return FileVisitResult.CONTINUE;
                            }
                            String rel = relative(root, file);
                            String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
                            boolean gzip = lower.endsWith(".gz");
                            String inner = gzip ? lower.substring(0, lower.length() - 3) : lower;
                            if (inner.endsWith(".txt") || inner.endsWith(".jsonl")) {
                                if (!Files.isReadable(file)) {
                                    throw new CorpusException(file + ": cannot read (no read permission)");
                                }
                                files.add(new CorpusFile(rel, file, inner.endsWith(".jsonl"), gzip, attrs.size()));
                            } else {
                                ignored.add(rel);
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            throw new CorpusException(file + ": cannot read: " + oneLine(e), e);
                        }
                    });
        } catch (IOException e) {
            throw new CorpusException("corpus domain directory " + domainDir + " cannot be read: " + oneLine(e), e);
        }
        files.sort(Comparator.comparing(CorpusFile::relative));
        Collections.sort(ignored);
        if (files.isEmpty()) {
            throw new CorpusException("domain '" + name + "' (" + domainDir + ") has no " + SUPPORTED + " files"
                    + (ignored.isEmpty() ? "" : " (ignored " + ignored.size() + " other file(s), e.g. " + ignored.getFirst()
                            + ")"));
        }
        return new DomainFiles(name, domainDir, List.copyOf(files), List.copyOf(ignored));
    }

    private static boolean hidden(Path p) {
        return p.getFileName() != null && p.getFileName().toString().startsWith(".");
    }

    /** Path relative to the corpus directory with '/' separators, whatever the platform: the stable file order. */
    private static String relative(Path root, Path file) {
        Iterator<Path> parts = root.relativize(file).iterator();
        StringBuilder sb = new StringBuilder();
        while (parts.hasNext()) {
            sb.append(parts.next());
            if (parts.hasNext()) {
                sb.append('/');
            }
        }
        return sb.toString();
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s*\\R\\s*", " ");
    }

    /** Counts the raw (on-disk) bytes read, for progress on compressed files. */
    private static final class CountingInputStream extends FilterInputStream {
        private static final long REPORT_EVERY = 1 << 20;
        private final LongConsumer onProgress;
        long count;
        private long reported;

        CountingInputStream(InputStream in, LongConsumer onProgress) {
            super(in);
            this.onProgress = onProgress;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(long n) {
            count += n;
            if (count - reported >= REPORT_EVERY) {
                reported = count;
                onProgress.accept(count);
            }
        }
    }
}
