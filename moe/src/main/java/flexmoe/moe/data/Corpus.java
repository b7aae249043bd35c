package flexmoe.moe.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
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

    /** JSON escapes can make a text up to 6x longer on the line ({@code \u0001}); above this a line is too large. */
    private static final int JSON_ESCAPE_GROWTH = 6;

    private final Path dir;
    private final CorpusOptions options;
    private final Map<String, DomainFiles> domains;

    /** Called while a domain is read, with on-disk (compressed) bytes read so far and the domain's total. */
    @FunctionalInterface
    public interface ReadProgress {
        void update(long fileBytesRead, long fileBytesTotal);
    }

    private record CorpusFile(String relative, Path path, boolean jsonl, boolean gzip, long size) {
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
        Reader reader = new Reader(d.name, tally, action);
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

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s*\\R\\s*", " ");
    }

    /** Reads documents out of one domain's files, counting what it skips. */
    private final class Reader {
        private final String domain;
        private final DomainReport.Tally tally;
        private final BiConsumer<Split, ? super Document> action;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final ObjectMapper json = new ObjectMapper(JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
                .build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        private int utf8ErrorAt;

        Reader(String domain, DomainReport.Tally tally, BiConsumer<Split, ? super Document> action) {
            this.domain = domain;
            this.tally = tally;
            this.action = action;
        }

        void readTxt(CorpusFile f, InputStream in) throws IOException {
            long cap = options.maxDocumentBytes();
            byte[] bytes = in.readNBytes((int) cap + 4);
            int off = hasBom(bytes, bytes.length) ? 3 : 0;
            int len = bytes.length - off;
            if (len > cap) {
                skip(SkipReason.TOO_LARGE, f.path.toString(), "document is over the size cap of " + cap + " bytes"
                        + (f.gzip ? "" : " (" + (f.size - off) + " bytes)"));
                return;
            }
            String text = decode(bytes, off, len);
            if (text == null) {
                int line = 1;
                for (int i = off; i < off + utf8ErrorAt; i++) {
                    line += bytes[i] == '\n' ? 1 : 0;
                }
                skip(SkipReason.INVALID_UTF8, f.path + ":" + line, "invalid UTF-8 (byte 0x"
                        + hex(bytes[off + utf8ErrorAt]) + " at byte offset " + (off + utf8ErrorAt) + " of the file)");
                return;
            }
            if (text.isBlank()) {
                skip(SkipReason.EMPTY, f.path.toString(), "empty document (no text, or only whitespace)");
                return;
            }
            byte[] utf8Bytes = off == 0 ? bytes : Arrays.copyOfRange(bytes, off, bytes.length);
            accept(f.relative, utf8Bytes, text);
        }

        void readJsonl(CorpusFile f, InputStream in) throws IOException {
            long cap = options.maxDocumentBytes();
            int lineLimit = (int) Math.min(Integer.MAX_VALUE - 16, cap * JSON_ESCAPE_GROWTH + (1 << 16));
            LineReader lines = new LineReader(in, lineLimit);
            while (lines.next()) {
                String where = f.path + ":" + lines.number;
                byte[] b = lines.bytes;
                int off = lines.number == 1 && hasBom(b, lines.length) ? 3 : 0;
                int len = lines.length - off;
                if (lines.tooLong) {
                    skip(SkipReason.TOO_LARGE, where, "line of more than " + lineLimit + " bytes: its text would be over"
                            + " the size cap of " + cap + " bytes");
                    continue;
                }
                if (blank(b, off, len)) {
                    continue; // blank lines separate nothing in JSONL; tolerated, not documents
                }
                String line = decode(b, off, len);
                if (line == null) {
                    skip(SkipReason.INVALID_UTF8, where, "invalid UTF-8 (byte 0x" + hex(b[off + utf8ErrorAt])
                            + " at byte offset " + utf8ErrorAt + " of the line)");
                    continue;
                }
                JsonNode node;
                try {
                    node = json.readTree(line);
                } catch (JsonProcessingException e) {
                    skip(SkipReason.NOT_JSON, where, "not JSON (" + oneLine(new Exception(e.getOriginalMessage())) + ")");
                    continue;
                }
                if (!node.isObject()) {
                    skip(SkipReason.NOT_JSON, where, "a JSON " + node.getNodeType().name().toLowerCase(Locale.ROOT)
                            + ", expected an object with a string field \"text\"");
                    continue;
                }
                JsonNode t = node.get("text");
                if (t == null || !t.isTextual()) {
                    skip(SkipReason.NO_TEXT, where, t == null
                            ? "no field \"text\" (fields: " + fieldNames(node) + ")"
                            : "field \"text\" is a " + t.getNodeType().name().toLowerCase(Locale.ROOT)
                                    + ", expected a string");
                    continue;
                }
                String text = t.textValue();
                int bad = unpairedSurrogate(text);
                if (bad >= 0) {
                    skip(SkipReason.INVALID_UTF8, where, "field \"text\" is not valid Unicode (unpaired surrogate \\u"
                            + String.format("%04X", (int) text.charAt(bad)) + " at character " + bad + ")");
                    continue;
                }
                byte[] utf8Bytes = text.getBytes(StandardCharsets.UTF_8);
                if (utf8Bytes.length > cap) {
                    skip(SkipReason.TOO_LARGE, where, "document is over the size cap of " + cap + " bytes ("
                            + utf8Bytes.length + " bytes)");
                    continue;
                }
                if (text.isBlank()) {
                    skip(SkipReason.EMPTY, where, "empty document (field \"text\" is empty or only whitespace)");
                    continue;
                }
                accept(f.relative + ":" + lines.number, utf8Bytes, text);
            }
        }

        private void accept(String source, byte[] utf8Bytes, String text) {
            Split split = options.splitFractions().splitOf(utf8Bytes);
            tally.document(split, utf8Bytes.length);
            action.accept(split, new Document(domain, source, text));
        }

        private void skip(SkipReason reason, String where, String detail) {
            if (options.strict()) {
                throw new CorpusException(where + ": " + detail + " (strict mode: such documents are errors)");
            }
            tally.skip(reason, where + ": " + detail + "; skipped");
        }

        /** Strict UTF-8 decoding; null on malformed input, with its byte offset (from {@code off}) in utf8ErrorAt. */
        private String decode(byte[] b, int off, int len) {
            ByteBuffer in = ByteBuffer.wrap(b, off, len);
            CharBuffer out = CharBuffer.allocate(len);
            utf8.reset();
            CoderResult r = utf8.decode(in, out, true);
            if (!r.isError()) {
                r = utf8.flush(out);
            }
            if (r.isError()) {
                utf8ErrorAt = in.position() - off;
                return null;
            }
            return out.flip().toString();
        }
    }

    private static boolean hasBom(byte[] b, int len) {
        return len >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF;
    }

    private static boolean blank(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    private static String hex(byte b) {
        return String.format("%02X", b & 0xFF);
    }

    private static String fieldNames(JsonNode node) {
        Set<String> names = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names.isEmpty() ? "none" : names.stream().limit(8).collect(Collectors.joining(", "))
                + (names.size() > 8 ? ", ..." : "");
    }

    /** Index of the first surrogate char without its partner, or -1: such text has no UTF-8 encoding. */
    private static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /** Splits a byte stream into lines at '\n' (never part of a multi-byte UTF-8 sequence), dropping a final '\r'. */
    private static final class LineReader {
        private final InputStream in;
        private final int limit;
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int end;
        byte[] bytes = new byte[1 << 12];
        int length;
        int number;
        boolean tooLong;

        LineReader(InputStream in, int limit) {
            this.in = in;
            this.limit = limit;
        }

        boolean next() throws IOException {
            length = 0;
            tooLong = false;
            boolean any = false;
            while (true) {
                if (pos == end) {
                    end = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (end <= 0) {
                        end = 0;
                        if (!any) {
                            return false;
                        }
                        break;
                    }
                }
                any = true;
                int nl = pos;
                while (nl < end && buf[nl] != '\n') {
                    nl++;
                }
                append(pos, nl - pos);
                boolean found = nl < end;
                pos = found ? nl + 1 : end;
                if (found) {
                    break;
                }
            }
            number++;
            if (!tooLong && length > 0 && bytes[length - 1] == '\r') {
                length--;
            }
            return true;
        }

        private void append(int from, int n) {
            if (tooLong) {
                return;
            }
            if ((long) length + n > limit) {
                tooLong = true;
                return;
            }
            if (length + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(length + n, (int) Math.min(limit, 2L * bytes.length)));
            }
            System.arraycopy(buf, from, bytes, length, n);
            length += n;
        }
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
