package flexmoe.moe.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * Turns one domain's files into documents ({@link Corpus} has the format): strict UTF-8, the JSONL rules, the size
 * cap; each bad document is skipped and counted in the domain's tally, or fails the read in strict mode.
 */
final class DocumentReader {

    /** JSON escapes can make a text up to 6x longer on the line ({@code \u0001}); above this a line is too large. */
    private static final int JSON_ESCAPE_GROWTH = 6;

    private final CorpusOptions options;
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

    DocumentReader(CorpusOptions options, String domain, DomainReport.Tally tally,
                   BiConsumer<Split, ? super Document> action) {
        this.options = options;
        this.domain = domain;
        this.tally = tally;
        this.action = action;
    }

    void readTxt(Corpus.CorpusFile f, InputStream in) throws IOException {
        long cap = options.maxDocumentBytes();
        byte[] bytes = in.readNBytes((int) cap + 4);
        int off = hasBom(bytes, bytes.length) ? 3 : 0;
        int len = bytes.length - off;
        if (len > cap) {
            skip(SkipReason.TOO_LARGE, f.path().toString(), "document is over the size cap of " + cap + " bytes"
                    + (f.gzip() ? "" : " (" + (f.size() - off) + " bytes)"));
            return;
        }
        String text = decode(bytes, off, len);
        if (text == null) {
            int line = 1;
            for (int i = off; i < off + utf8ErrorAt; i++) {
                line += bytes[i] == '\n' ? 1 : 0;
            }
            skip(SkipReason.INVALID_UTF8, f.path() + ":" + line, "invalid UTF-8 (byte 0x"
                    + hex(bytes[off + utf8ErrorAt]) + " at byte offset " + (off + utf8ErrorAt) + " of the file)");
            return;
        }
        if (text.isBlank()) {
            skip(SkipReason.EMPTY, f.path().toString(), "empty document (no text, or only whitespace)");
            return;
        }
        byte[] utf8Bytes = off == 0 ? bytes : Arrays.copyOfRange(bytes, off, bytes.length);
        accept(f.relative(), utf8Bytes, text);
    }

    void readJsonl(Corpus.CorpusFile f, InputStream in) throws IOException {
        long cap = options.maxDocumentBytes();
        int lineLimit = (int) Math.min(Integer.MAX_VALUE - 16, cap * JSON_ESCAPE_GROWTH + (1 << 16));
        LineReader lines = new LineReader(in, lineLimit);
        while (lines.next()) {
            String where = f.path() + ":" + lines.number;
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
                skip(SkipReason.NOT_JSON, where, "not JSON (" + Corpus.oneLine(new Exception(e.getOriginalMessage())) + ")");
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
            accept(f.relative() + ":" + lines.number, utf8Bytes, text);
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
}
