package flexmoe.moe.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Writes small generated corpora for tests. */
final class CorpusFiles {

    private CorpusFiles() {
    }

    static Path write(Path root, String relative, String content) {
        return writeBytes(root, relative, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes the bytes, gzip-compressed when the name ends in .gz. */
    static Path writeBytes(Path root, String relative, byte[] content) {
        Path p = root.resolve(relative);
        try {
            Files.createDirectories(p.getParent());
            Files.write(p, relative.endsWith(".gz") ? gzip(content) : content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** A JSONL file with one {"text": ...} object per text (JSON-escaped with Jackson). */
    static Path jsonl(Path root, String relative, List<String> texts) {
        StringBuilder sb = new StringBuilder();
        for (String t : texts) {
            sb.append(jsonLine(t)).append('\n');
        }
        return write(root, relative, sb.toString());
    }

    static String jsonLine(String text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper()
                    .writeValueAsString(java.util.Map.of("text", text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Bytes of a that are not valid UTF-8 between two valid parts. */
    static byte[] withInvalidByte(String before, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.write(0xFF);
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
