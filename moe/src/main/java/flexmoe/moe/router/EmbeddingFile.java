package flexmoe.moe.router;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an embedding file: {@code .npy} (NumPy format 1.0-3.0, little-endian float32 or float64, C order) or
 * {@code .safetensors} (exactly one tensor, F32 or F64), of shape [N, d] (one row per document) or [d] (a
 * precomputed mean). Everything the header claims is checked against the file's size before anything is
 * allocated, and every value must be finite. Minimal and private to this package: the artifact module has the
 * general safetensors reader.
 */
final class EmbeddingFile {

    /** Rows x cols values, row-major; {@code vector} when the file held a 1-D array (rows == 1). */
    record Matrix(int rows, int cols, float[] data, boolean vector) {
    }

    /** Headers larger than this are refused (NumPy writes tens of bytes; safetensors a few hundred per tensor). */
    static final long MAX_HEADER_BYTES = 1 << 20;

    private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private EmbeddingFile() {
    }

    static Matrix read(Path file) {
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("embedding file " + file + ": not found (or not a regular file)");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (name.endsWith(".npy")) {
                return readNpy(file, ch);
            }
            if (name.endsWith(".safetensors")) {
                return readSafetensors(file, ch);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("embedding file " + file + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("embedding file " + file + ": expected a .npy or .safetensors file");
    }

    // ---- .npy ----

    private static Matrix readNpy(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        ByteBuffer start = readExactly(file, ch, 0, Math.min(size, 12));
        if (size < 10 || !startsWith(start, NPY_MAGIC)) {
            throw bad(file, "not a NumPy .npy file (no \\x93NUMPY magic)");
        }
        int major = start.get(6) & 0xff;
        long headerLen;
        int prefix;
        if (major == 1) {
            headerLen = start.getShort(8) & 0xffff;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            if (size < 12) {
                throw bad(file, "truncated header");
            }
            headerLen = start.getInt(8) & 0xffffffffL;
            prefix = 12;
        } else {
            throw bad(file, "unsupported .npy format version " + major + " (expected 1, 2 or 3)");
        }
        if (headerLen > MAX_HEADER_BYTES || prefix + headerLen > size) {
            throw bad(file, "header of " + headerLen + " bytes does not fit the file of " + size + " bytes");
        }
        String header = StandardCharsets.UTF_8.decode(readExactly(file, ch, prefix, (int) headerLen)).toString();
        String descr = group(file, DESCR, header, "descr");
        if (!group(file, FORTRAN, header, "fortran_order").equals("False")) {
            throw bad(file, "fortran_order True is not supported (save a C-ordered array, np.ascontiguousarray)");
        }
        int item = switch (descr) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            default -> throw bad(file, "dtype '" + descr + "' is not supported (expected '<f4' float32 or '<f8' float64)");
        };
        List<Long> shape = new ArrayList<>();
        for (String part : group(file, SHAPE, header, "shape").split(",")) {
            String p = part.strip();
            if (!p.isEmpty()) {
                try {
                    shape.add(Long.parseLong(p));
                } catch (NumberFormatException e) {
                    throw bad(file, "shape entry '" + p + "' is not an integer");
                }
            }
        }
        long dataStart = prefix + headerLen;
        return readValues(file, ch, "array", shape, item, dataStart, size - dataStart, true);
    }

    // ---- .safetensors ----

    private static Matrix readSafetensors(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw bad(file, "truncated: " + size + " bytes, a safetensors file starts with an 8-byte header length");
        }
        long headerLen = readExactly(file, ch, 0, 8).getLong(0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
            throw bad(file, "header length " + Long.toUnsignedString(headerLen) + " does not fit the file of " + size
                    + " bytes (limit " + MAX_HEADER_BYTES + ")");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(StandardCharsets.UTF_8.decode(readExactly(file, ch, 8, (int) headerLen))
                    .toString());
        } catch (JacksonException e) {
            throw bad(file, "header is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "header is not a JSON object");
        }
        List<String> tensors = new ArrayList<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String n = it.next();
            if (!n.equals("__metadata__")) {
                tensors.add(n);
            }
        }
        if (tensors.size() != 1) {
            throw bad(file, "expected exactly one tensor, found " + tensors.size() + " " + tensors);
        }
        String tensor = tensors.getFirst();
        JsonNode entry = root.get(tensor);
        if (!entry.isObject()) {
            throw bad(file, "tensor " + tensor + ": entry is not a JSON object");
        }
        JsonNode dtype = entry.get("dtype");
        int item = switch (dtype == null ? "" : dtype.asText()) {
            case "F32" -> 4;
            case "F64" -> 8;
            default -> throw bad(file, "tensor " + tensor + ": dtype " + dtype + " is not supported (expected F32 or F64)");
        };
        List<Long> shape = new ArrayList<>();
        JsonNode s = entry.get("shape");
        if (s == null || !s.isArray()) {
            throw bad(file, "tensor " + tensor + ": shape is missing or not an array");
        }
        for (JsonNode dim : s) {
            if (!dim.isIntegralNumber() || !dim.canConvertToLong()) {
                throw bad(file, "tensor " + tensor + ": shape entry " + dim + " is not an integer");
            }
            shape.add(dim.asLong());
        }
        JsonNode off = entry.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).canConvertToLong()
                || !off.get(1).canConvertToLong() || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
            throw bad(file, "tensor " + tensor + ": data_offsets must be [begin, end]");
        }
        long begin = off.get(0).asLong(), end = off.get(1).asLong(), dataSize = size - 8 - headerLen;
        if (begin < 0 || end < begin || end > dataSize) {
            throw bad(file, "tensor " + tensor + ": data_offsets [" + begin + ", " + end
                    + "] are outside the data section of " + dataSize + " bytes");
        }
        return readValues(file, ch, "tensor " + tensor, shape, item, 8 + headerLen + begin, end - begin, false);
    }

    // ---- shared ----

    /** Checks shape against the byte count, then reads and converts the values. */
    private static Matrix readValues(Path file, FileChannel ch, String what, List<Long> shape, int item, long at,
                                     long bytes, boolean exact) throws IOException {
        if (shape.size() != 1 && shape.size() != 2) {
            throw bad(file, what + ": shape " + shape + " must be [N, d] (one row per document) or [d] (a mean)");
        }
        long count = 1;
        for (long dim : shape) {
            if (dim < 1) {
                throw bad(file, what + ": shape " + shape + " has an empty or negative dimension");
            }
            if (dim > Integer.MAX_VALUE || count > (Integer.MAX_VALUE - 8) / dim) {
                throw bad(file, what + ": shape " + shape + " is too large");
            }
            count *= dim;
        }
        if (count * item != bytes) {
            throw bad(file, what + ": shape " + shape + " needs " + count * item + " bytes of data, "
                    + (exact ? "the file has " : "data_offsets span ") + bytes);
        }
        ByteBuffer buf = readExactly(file, ch, at, count * item);
        int rows = shape.size() == 1 ? 1 : (int) (long) shape.get(0);
        int cols = (int) (long) shape.getLast();
        float[] data = new float[(int) count];
        for (int i = 0; i < data.length; i++) {
            double v = item == 4 ? buf.getFloat(i * 4) : buf.getDouble(i * 8);
            float f = (float) v;
            if (!Float.isFinite(f)) {
                throw bad(file, what + ": value [" + i / cols + ", " + i % cols + "] is " + v
                        + (Double.isFinite(v) ? " (overflows float32)" : ""));
            }
            data[i] = f;
        }
        return new Matrix(rows, cols, data, shape.size() == 1);
    }

    private static ByteBuffer readExactly(Path file, FileChannel ch, long at, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 8) {
            throw bad(file, length + " bytes do not fit one Java array");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        long pos = at;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw bad(file, "truncated: expected " + length + " bytes at offset " + at);
            }
            pos += r;
        }
        return buf.flip();
    }

    private static boolean startsWith(ByteBuffer b, byte[] prefix) {
        if (b.remaining() < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b.get(i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String group(Path file, Pattern p, String header, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw bad(file, "header has no valid '" + key + "' entry: " + header.strip());
        }
        return m.group(1);
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException("embedding file " + file + ": " + problem);
    }
}
