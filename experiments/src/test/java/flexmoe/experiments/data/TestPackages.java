package flexmoe.experiments.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;

/** Generated stand-ins for registry packages: npm-like tarballs and Debian-like .deb files, for tests. */
final class TestPackages {

    private TestPackages() {
    }

    /** An npm-style tarball: gzip-compressed tar with the given files (paths as in the package, e.g. package/a). */
    static Path npmTarball(Path file, Map<String, String> files) throws IOException {
        try (OutputStream os = new GzipCompressorOutputStream(Files.newOutputStream(file))) {
            os.write(tar(files, null));
        }
        return file;
    }

    /** A Debian-style package: ar archive with debian-binary, control.tar.xz and data.tar.{xz,gz}. */
    static Path deb(Path file, Map<String, String> files, String dataCompression) throws IOException {
        byte[] data = compress(tar(files, "./usr/share/doc/linked"), dataCompression);
        byte[] control = compress(tar(Map.of("./control", "Package: test\n"), null), "xz");
        try (ArArchiveOutputStream ar = new ArArchiveOutputStream(Files.newOutputStream(file))) {
            member(ar, "debian-binary", "2.0\n".getBytes(StandardCharsets.US_ASCII));
            member(ar, "control.tar.xz", control);
            member(ar, "data.tar." + dataCompression, data);
        }
        return file;
    }

    /** gzip of a text, as Debian ships documentation ({@code .gz}, and dictzip {@code .dz}). */
    static String gzipped(String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return new String(bytes.toByteArray(), StandardCharsets.ISO_8859_1);
    }

    private static void member(ArArchiveOutputStream ar, String name, byte[] content) throws IOException {
        ar.putArchiveEntry(new ArArchiveEntry(name, content.length));
        ar.write(content);
        ar.closeArchiveEntry();
    }

    private static byte[] compress(byte[] bytes, String how) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream os = switch (how) {
            case "xz" -> new XZCompressorOutputStream(out);
            case "gz" -> new GzipCompressorOutputStream(out);
            default -> throw new IllegalArgumentException(how);
        }) {
            os.write(bytes);
        }
        return out.toByteArray();
    }

    /**
     * A tar with the files; a value whose key ends in .gz/.dz must already be gzip bytes as ISO-8859-1 text (see
     * {@link #gzipped}). With {@code symlink}, adds a symbolic link of that name (readers must skip it).
     */
    private static byte[] tar(Map<String, String> files, String symlink) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, String> f : new java.util.TreeMap<>(files).entrySet()) {
                boolean binary = f.getKey().endsWith(".gz") || f.getKey().endsWith(".dz");
                byte[] content = f.getValue().getBytes(binary ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(content.length);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
            if (symlink != null) {
                TarArchiveEntry link = new TarArchiveEntry(symlink, TarArchiveEntry.LF_SYMLINK);
                link.setLinkName("../elsewhere");
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }
}
