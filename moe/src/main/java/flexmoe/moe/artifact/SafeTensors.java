package flexmoe.moe.artifact;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import flexmoe.moe.io.AtomicFiles;
import flexmoe.moe.model.NamedTensor;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The safetensors file format (Hugging Face), F32 tensors only: the one place that reads and writes it.
 *
 * <pre>
 *   8 bytes   N, unsigned 64-bit little-endian: the header length
 *   N bytes   the header: a UTF-8 JSON object
 *               {"__metadata__": {"key": "value", ...},                       (optional; string values only)
 *                "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
 *             padded with spaces to a multiple of 8 bytes
 *   rest      the data section: raw little-endian values; offsets are relative to its start
 * </pre>
 *
 * <p>Writing is deterministic, byte for byte what the reference implementation writes for the same tensors: tensors
 * sorted by name (UTF-8 byte order; all have the same dtype, so the reference's first sort key, alignment, does not
 * apply) and laid out in that order without gaps; compact JSON with {@code __metadata__} first (its keys sorted too;
 * the reference keeps them in a hash map) and each entry's keys in the order dtype, shape, data_offsets; the header
 * padded with spaces to a multiple of 8. The file is written to a temporary file in the target's directory, synced
 * and renamed over the target, so a reader never sees a partial file.
 *
 * <p>Reading validates everything before it allocates a tensor: the header length (at most
 * {@link #MAX_HEADER_BYTES} and inside the file), strict UTF-8, a JSON object whose values are tensor entries of
 * exactly the three keys (no duplicates, no other keys), dtype F32 (any other is a clear error), a shape of at most
 * {@link #MAX_RANK} non-negative dimensions whose product fits a Java array, offsets inside the data section with
 * {@code end - begin == 4 * product}, no overlaps and no gaps (the spec requires the entries to cover the data section
 * exactly), and metadata values that are strings. Since every tensor is then known to lie inside the file and not to
 * overlap another, the arrays allocated never add up to more than the file holds, whatever the header claims. Values
 * are then read through a fixed-size buffer and must be finite (NaN or infinity is an error naming the tensor and
 * the first bad index). Every problem is an {@link ArtifactFormatException} naming the file and the tensor or field;
 * names quoted from the file are escaped and shortened so that a hostile name cannot forge extra output lines.
 */
public final class SafeTensors {

    /**
     * Largest header accepted. The reference allows 100 MB; flexmoe's headers are a few kilobytes and those of real
     * Hugging Face checkpoints well under a megabyte, and a parsed header takes a few times its size in memory, so a
     * smaller bound keeps a hostile header from costing hundreds of megabytes.
     */
    public static final long MAX_HEADER_BYTES = 16L << 20;
    /** Most dimensions a shape may have. */
    public static final int MAX_RANK = 16;
    /** Most {@code __metadata__} entries accepted. */
    public static final int MAX_METADATA_ENTRIES = 1024;
    /** The metadata key of the header. */
    public static final String METADATA_KEY = "__metadata__";

    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final int CHUNK = 1 << 20;
    private static final int MAX_QUOTED = 80;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();

    private SafeTensors() {
    }

    /**
     * One validated header entry.
     *
     * @param name  the tensor's name
     * @param shape its dimensions (may be empty: a scalar)
     * @param begin first byte in the data section
     * @param end   one past its last byte ({@code end - begin = 4 * product(shape)})
     */
    public record Entry(String name, int[] shape, long begin, long end) {

        public Entry {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** Number of values, {@code product(shape)}. */
        public int count() {
            return (int) ((end - begin) / Float.BYTES);
        }
    }

    /**
     * A validated header.
     *
     * @param headerBytes N, the JSON header's length including its padding
     * @param dataBytes   length of the data section
     * @param metadata    the {@code __metadata__} map, in file order (empty when absent)
     * @param entries     the tensors, in data-section order
     */
    public record Header(long headerBytes, long dataBytes, Map<String, String> metadata, List<Entry> entries) {

        public Header {
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
            entries = List.copyOf(entries);
        }
    }

    /**
     * A whole file, read and validated.
     *
     * @param header     its header
     * @param tensors    the tensors, in data-section order
     * @param fileSha256 SHA-256 of all the file's bytes
     * @param dataSha256 SHA-256 of the data section, 64 hex digits
     */
    public record Contents(Header header, List<NamedTensor> tensors, ArtifactFingerprint fileSha256,
                           String dataSha256) {

        public Contents {
            tensors = List.copyOf(tensors);
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------

    /** Reads and validates only the header (no tensor data is read or checked). */
    public static Header readHeader(Path file) {
        try (FileChannel ch = open(file)) {
            return new Reader(file, ch, ch.size()).header(ArtifactFingerprint.newDigest());
        } catch (IOException e) {
            throw cannotRead(file, e);
        }
    }

    /** Reads and validates the whole file (see the class comment for what is checked). */
    public static Contents read(Path file) {
        try (FileChannel ch = open(file)) {
            long size = ch.size();
            Reader reader = new Reader(file, ch, size);
            MessageDigest fileDigest = ArtifactFingerprint.newDigest();
            MessageDigest dataDigest = ArtifactFingerprint.newDigest();
            Header header = reader.header(fileDigest);
            List<NamedTensor> tensors = new ArrayList<>(header.entries().size());
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(header.dataBytes(), 4)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            long dataStart = 8 + header.headerBytes();
            for (Entry e : header.entries()) {
                float[] values = new float[e.count()];
                reader.readFloats(e, dataStart + e.begin(), values, buf, fileDigest, dataDigest);
                int bad = firstNonFinite(values);
                if (bad >= 0) {
                    throw reader.fail("tensor " + quote(e.name()) + ": value " + values[bad] + " at index "
                            + indexString(bad, e.shape()) + " is not finite");
                }
                tensors.add(new NamedTensor(e.name(), e.shape(), values));
            }
            if (ch.size() != size) {
                throw reader.fail("the file changed while it was being read");
            }
            return new Contents(header, tensors, ArtifactFingerprint.ofDigest(fileDigest.digest()),
                    HexFormat.of().formatHex(dataDigest.digest()));
        } catch (IOException e) {
            throw cannotRead(file, e);
        }
    }

    private static FileChannel open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new ArtifactFormatException(file + ": is a directory, not a safetensors file");
        }
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    private static UncheckedIOException cannotRead(Path file, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file" : e.getMessage();
        return new UncheckedIOException(file + ": cannot read: " + why, e);
    }

    /** Parses and validates one file's header; reads its data. */
    private static final class Reader {
        private final Path file;
        private final FileChannel ch;
        private final long size;

        Reader(Path file, FileChannel ch, long size) {
            this.file = file;
            this.ch = ch;
            this.size = size;
        }

        ArtifactFormatException fail(String message) {
            return new ArtifactFormatException(file + ": " + message);
        }

        Header header(MessageDigest fileDigest) throws IOException {
            if (size < 8) {
                throw fail("the file has " + size + " bytes, fewer than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(lengthBytes, 0, "the header length");
            fileDigest.update(lengthBytes.array());
            long n = lengthBytes.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw fail("header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES
                        + " bytes");
            }
            if (n > size - 8) {
                throw fail("header length " + n + " exceeds the " + (size - 8) + " bytes after the length field");
            }
            if (n < 2) {
                throw fail("header length " + n + " is too short for a JSON object");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
            readFully(headerBytes, 8, "the header");
            fileDigest.update(headerBytes.array());
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes.flip()).toString();
            } catch (CharacterCodingException e) {
                throw fail("the header is not valid UTF-8");
            }
            long dataBytes = size - 8 - n;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parse(json, metadata, dataBytes);
            checkLayout(entries, dataBytes);
            return new Header(n, dataBytes, metadata, entries);
        }

        private List<Entry> parse(String json, Map<String, String> metadata, long dataBytes) {
            List<Entry> entries = new ArrayList<>();
            Set<String> names = new HashSet<>();
            boolean sawMetadata = false;
            try (JsonParser p = JSON.createParser(json)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw fail("the header is not a JSON object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    if (name.equals(METADATA_KEY)) {
                        if (sawMetadata) {
                            throw fail("the header has " + METADATA_KEY + " twice");
                        }
                        sawMetadata = true;
                        parseMetadata(p, metadata);
                    } else {
                        if (!names.add(name)) {
                            throw fail("tensor " + quote(name) + " appears twice in the header");
                        }
                        entries.add(parseEntry(p, name, dataBytes));
                    }
                }
                if (p.currentToken() != JsonToken.END_OBJECT) {
                    throw fail("the header is not a JSON object");
                }
                if (p.nextToken() != null) {
                    throw fail("the header has content after its JSON object");
                }
            } catch (JsonProcessingException e) {
                throw fail("the header is not valid JSON: " + oneLine(e.getOriginalMessage()));
            } catch (IOException e) {
                throw fail("the header cannot be parsed: " + oneLine(e.getMessage()));
            }
            return entries;
        }

        private void parseMetadata(JsonParser p, Map<String, String> metadata) throws IOException {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw fail(METADATA_KEY + " must be an object of strings, got " + describe(p));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_STRING) {
                    throw fail(METADATA_KEY + "." + quote(key) + " must be a string, got " + describe(p));
                }
                if (metadata.put(key, p.getText()) != null) {
                    throw fail(METADATA_KEY + "." + quote(key) + " appears twice");
                }
                if (metadata.size() > MAX_METADATA_ENTRIES) {
                    throw fail(METADATA_KEY + " has more than " + MAX_METADATA_ENTRIES + " entries");
                }
            }
        }

        private Entry parseEntry(JsonParser p, String name, long dataBytes) throws IOException {
            String what = "tensor " + quote(name);
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw fail(what + ": expected an object {dtype, shape, data_offsets}, got " + describe(p));
            }
            String dtype = null;
            long[] shape = null;
            long[] offsets = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                switch (key) {
                    case "dtype" -> {
                        if (dtype != null) {
                            throw fail(what + ": dtype appears twice");
                        }
                        if (p.nextToken() != JsonToken.VALUE_STRING) {
                            throw fail(what + ": dtype must be a string, got " + describe(p));
                        }
                        dtype = p.getText();
                    }
                    case "shape" -> {
                        if (shape != null) {
                            throw fail(what + ": shape appears twice");
                        }
                        shape = integers(p, what + ": shape", MAX_RANK);
                    }
                    case "data_offsets" -> {
                        if (offsets != null) {
                            throw fail(what + ": data_offsets appears twice");
                        }
                        offsets = integers(p, what + ": data_offsets", 2);
                        if (offsets.length != 2) {
                            throw fail(what + ": data_offsets must be [begin, end], got " + offsets.length
                                    + " numbers");
                        }
                    }
                    default -> throw fail(what + ": unknown key " + quote(key)
                            + " (expected dtype, shape, data_offsets)");
                }
            }
            if (dtype == null || shape == null || offsets == null) {
                String missing = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
                throw fail(what + ": " + missing + " is missing");
            }
            if (!dtype.equals("F32")) {
                throw fail(what + ": dtype " + quote(dtype) + " is not supported (flexmoe reads F32 only)");
            }
            long count = 1;
            int[] dims = new int[shape.length];
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] > Integer.MAX_VALUE) {
                    throw fail(what + ": shape " + Arrays.toString(shape) + " has a dimension too large for a Java"
                            + " array");
                }
                dims[i] = (int) shape[i];
                count *= shape[i]; // both factors are below 2^31: no overflow
                if (count > MAX_ELEMENTS) {
                    throw fail(what + ": shape " + Arrays.toString(shape) + " has more elements than a Java array"
                            + " holds (" + MAX_ELEMENTS + ")");
                }
            }
            long begin = offsets[0], end = offsets[1];
            if (begin > end) {
                throw fail(what + ": data_offsets [" + begin + ", " + end + "] end before they begin");
            }
            if (end > dataBytes) {
                throw fail(what + ": data_offsets [" + begin + ", " + end + "] reach beyond the data section ("
                        + dataBytes + " bytes)");
            }
            if (end - begin != count * Float.BYTES) {
                throw fail(what + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                        + " bytes, shape " + Arrays.toString(dims) + " of F32 needs " + count * Float.BYTES);
            }
            return new Entry(name, dims, begin, end);
        }

        /** A JSON array of at most {@code max} non-negative integers that fit a long. */
        private long[] integers(JsonParser p, String what, int max) throws IOException {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw fail(what + " must be an array of non-negative integers, got " + describe(p));
            }
            long[] values = new long[max];
            int n = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw fail(what + " must hold non-negative integers, got " + describe(p));
                }
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw fail(what + " holds " + oneLine(p.getText()) + ", too large");
                }
                long v = p.getLongValue();
                if (v < 0) {
                    throw fail(what + " holds " + v + ", negative");
                }
                if (n == max) {
                    throw fail(what + " has more than " + max + " entries");
                }
                values[n++] = v;
            }
            return Arrays.copyOf(values, n);
        }

        /** Entries sorted by offset must tile the data section: no gap, no overlap, nothing left over. */
        private void checkLayout(List<Entry> entries, long dataBytes) {
            entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long expected = 0;
            Entry previous = null;
            for (Entry e : entries) {
                if (e.begin() < expected) {
                    throw fail("tensor " + quote(e.name()) + ": data_offsets [" + e.begin() + ", " + e.end()
                            + "] overlap tensor " + quote(previous.name()) + " [" + previous.begin() + ", "
                            + previous.end() + "]");
                }
                if (e.begin() > expected) {
                    throw fail("tensor " + quote(e.name()) + ": data_offsets [" + e.begin() + ", " + e.end()
                            + "] leave bytes [" + expected + ", " + e.begin() + ") of the data section unused");
                }
                expected = e.end();
                previous = e;
            }
            if (expected != dataBytes) {
                throw fail("the tensors cover " + expected + " bytes of the " + dataBytes + "-byte data section"
                        + " (the spec requires them to cover it exactly)");
            }
        }

        void readFloats(Entry e, long position, float[] values, ByteBuffer buf, MessageDigest fileDigest,
                        MessageDigest dataDigest) throws IOException {
            long remaining = e.end() - e.begin();
            long pos = position;
            int off = 0;
            while (remaining > 0) {
                int n = (int) Math.min(buf.capacity(), remaining);
                buf.clear().limit(n);
                readFully(buf, pos, "tensor " + quote(e.name()));
                fileDigest.update(buf.array(), 0, n);
                dataDigest.update(buf.array(), 0, n);
                buf.flip();
                buf.asFloatBuffer().get(values, off, n / Float.BYTES);
                off += n / Float.BYTES;
                pos += n;
                remaining -= n;
            }
        }

        private void readFully(ByteBuffer buf, long position, String what) throws IOException {
            long pos = position;
            while (buf.hasRemaining()) {
                int r = ch.read(buf, pos);
                if (r < 0) {
                    throw fail("the file ended at byte " + pos + " inside " + what);
                }
                pos += r;
            }
        }
    }

    // ---- writing ----------------------------------------------------------------------------------------

    /**
     * Writes the tensors and metadata atomically (see the class comment for the layout) and returns the SHA-256 of
     * the bytes written. Tensors must have unique names other than {@value #METADATA_KEY}, non-negative
     * dimensions and finite values.
     */
    public static ArtifactFingerprint write(Path file, List<NamedTensor> tensors, Map<String, String> metadata) {
        Layout layout = Layout.of(tensors, metadata);
        ArtifactFingerprint[] fingerprint = new ArtifactFingerprint[1];
        AtomicFiles.write(file, out -> fingerprint[0] = layout.writeTo(out));
        return fingerprint[0];
    }

    /** The SHA-256 of the bytes {@link #write} would write for these tensors and metadata, without writing them. */
    public static ArtifactFingerprint fingerprint(List<NamedTensor> tensors, Map<String, String> metadata) {
        try {
            return Layout.of(tensors, metadata).writeTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the null stream does not fail
        }
    }

    /** The SHA-256 (hex) of the data section {@link #write} would write: the values in name order. */
    public static String dataSha256(List<NamedTensor> tensors) {
        MessageDigest digest = ArtifactFingerprint.newDigest();
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
            byte[] chunk = new byte[CHUNK];
            for (NamedTensor t : sorted(tensors)) {
                writeValues(out, t.data(), chunk);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The tensors in the order {@link #write} lays them out: by name, comparing UTF-8 bytes. */
    public static List<NamedTensor> sorted(List<NamedTensor> tensors) {
        List<NamedTensor> list = new ArrayList<>(tensors);
        list.sort((a, b) -> Arrays.compareUnsigned(a.name().getBytes(StandardCharsets.UTF_8),
                b.name().getBytes(StandardCharsets.UTF_8)));
        return list;
    }

    /** Validated tensors in file order and the padded header bytes. */
    private record Layout(List<NamedTensor> tensors, byte[] header) {

        static Layout of(List<NamedTensor> tensors, Map<String, String> metadata) {
            Set<String> names = new HashSet<>();
            for (NamedTensor t : tensors) {
                String what = "safetensors: cannot write tensor " + quote(t.name());
                if (t.name().isEmpty() || t.name().equals(METADATA_KEY) || !encodable(t.name())) {
                    throw new IllegalArgumentException(what + ": the name must be non-empty valid Unicode other than "
                            + METADATA_KEY);
                }
                if (!names.add(t.name())) {
                    throw new IllegalArgumentException(what + ": the name appears twice");
                }
                int[] shape = t.shape();
                for (int d : shape) {
                    if (d < 0) {
                        throw new IllegalArgumentException(what + ": shape " + Arrays.toString(shape)
                                + " has a negative dimension");
                    }
                }
                int bad = firstNonFinite(t.data());
                if (bad >= 0) {
                    throw new IllegalArgumentException(what + ": value " + t.data()[bad] + " at index "
                            + indexString(bad, shape) + " is not finite");
                }
            }
            Map<String, String> meta = new TreeMap<>((a, b) -> Arrays.compareUnsigned(
                    a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null || !encodable(m.getKey())
                        || !encodable(m.getValue())) {
                    throw new IllegalArgumentException("safetensors: metadata keys and values must be valid Unicode"
                            + " strings, got " + quote(String.valueOf(m.getKey())));
                }
                meta.put(m.getKey(), m.getValue());
            }
            if (meta.size() > MAX_METADATA_ENTRIES) {
                throw new IllegalArgumentException("safetensors: more than " + MAX_METADATA_ENTRIES
                        + " metadata entries");
            }
            List<NamedTensor> ordered = sorted(tensors);
            ByteArrayOutputStream json = new ByteArrayOutputStream();
            try (JsonGenerator g = JSON.createGenerator(json)) {
                g.writeStartObject();
                if (!meta.isEmpty()) {
                    g.writeObjectFieldStart(METADATA_KEY);
                    for (Map.Entry<String, String> m : meta.entrySet()) {
                        g.writeStringField(m.getKey(), m.getValue());
                    }
                    g.writeEndObject();
                }
                long offset = 0;
                for (NamedTensor t : ordered) {
                    g.writeObjectFieldStart(t.name());
                    g.writeStringField("dtype", "F32");
                    g.writeArrayFieldStart("shape");
                    for (int d : t.shape()) {
                        g.writeNumber(d);
                    }
                    g.writeEndArray();
                    long end = offset + (long) t.data().length * Float.BYTES;
                    g.writeArrayFieldStart("data_offsets");
                    g.writeNumber(offset);
                    g.writeNumber(end);
                    g.writeEndArray();
                    g.writeEndObject();
                    offset = end;
                }
                g.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // an in-memory stream does not fail
            }
            int padding = (8 - json.size() % 8) % 8;
            for (int i = 0; i < padding; i++) {
                json.write(' ');
            }
            if (json.size() > MAX_HEADER_BYTES) {
                throw new IllegalArgumentException("safetensors: the header would be " + json.size()
                        + " bytes, more than the " + MAX_HEADER_BYTES + " a reader accepts");
            }
            return new Layout(ordered, json.toByteArray());
        }

        ArtifactFingerprint writeTo(OutputStream sink) throws IOException {
            MessageDigest digest = ArtifactFingerprint.newDigest();
            // Flushed, not closed: the caller still syncs the channel underneath.
            OutputStream out = new DigestOutputStream(new BufferedOutputStream(sink, CHUNK), digest);
            byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
            out.write(length);
            out.write(header);
            byte[] chunk = new byte[CHUNK];
            for (NamedTensor t : tensors) {
                writeValues(out, t.data(), chunk);
            }
            out.flush();
            return ArtifactFingerprint.ofDigest(digest.digest());
        }
    }

    private static void writeValues(OutputStream out, float[] values, byte[] chunk) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        int perChunk = chunk.length / Float.BYTES;
        for (int off = 0; off < values.length; off += perChunk) {
            int n = Math.min(perChunk, values.length - off);
            buf.clear();
            buf.asFloatBuffer().put(values, off, n);
            out.write(chunk, 0, n * Float.BYTES);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    static int firstNonFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    /** Flat index i of a tensor of this shape as {@code [i0, i1, ...]}. */
    static String indexString(long flat, int[] shape) {
        if (shape.length < 2) {
            return "[" + flat + "]";
        }
        long[] idx = new long[shape.length];
        long rest = flat;
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = shape[i] == 0 ? 0 : rest % shape[i];
            rest = shape[i] == 0 ? rest : rest / shape[i];
        }
        return Arrays.toString(idx);
    }

    /** A name from a file, for a message: quoted, control characters escaped, long names shortened. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("'");
        int n = Math.min(s.length(), MAX_QUOTED);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) || c == '\u2028' || c == '\u2029') {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (s.length() > n) {
            sb.append("...(").append(s.length()).append(" chars)");
        }
        return sb.append('\'').toString();
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String line = s.replaceAll("[\\p{Cntrl}\\u2028\\u2029]+", " ").strip();
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    private static String describe(JsonParser p) {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "the end of the header";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    private static boolean encodable(String s) {
        try {
            StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
