package flexmoe.moe.eval;

import flexmoe.moe.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format for float32 arrays, as its format specification describes
 * ({@code numpy.lib.format}): the magic {@code \x93NUMPY}, version bytes, a little-endian header length, an ASCII
 * Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (T, V), }} padded with spaces and
 * ended by {@code '\n'} so that the data starts at a multiple of 64 bytes, then the values little-endian in C
 * (row-major) order. The writer produces version 1.0 exactly as {@code numpy.save} does; the reader takes versions
 * 1.0 and 2.0 (4-byte header length) of little-endian float32 in C order and refuses anything else with a one-line
 * message naming the file.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy aligns the data to this many bytes. */
    private static final int ALIGN = 64;
    /** Far beyond any header NumPy writes for a float array; bounds what a hostile file can make us read. */
    private static final int MAX_HEADER = 1 << 16;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** A float32 array and its shape (C order). */
    public record Array(float[] data, int[] shape) {
        public Array {
            long n = 1;
            for (int d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("npy: negative dimension in shape " + Arrays.toString(shape));
                }
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("npy: shape " + Arrays.toString(shape) + " holds " + n
                        + " values, the data has " + data.length);
            }
        }
    }

    private Npy() {
    }

    /** The header NumPy writes for a float32 C-order array of this shape, padding and newline included. */
    static byte[] header(int... shape) {
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shape.length == 1) {
            dims.append(','); // a Python 1-tuple
        }
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (ALIGN - unpadded % ALIGN) % ALIGN;
        String text = dict + " ".repeat(padding) + "\n";
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 + text.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /**
     * Writes {@code data} with {@code shape} to {@code file} atomically ({@link AtomicFiles}): a reader never sees
     * a partial file, and a failure leaves nothing behind.
     */
    public static void write(Path file, float[] data, int... shape) {
        new Array(data, shape);
        byte[] header = header(shape);
        ByteBuffer body = ByteBuffer.allocate(Math.multiplyExact(4, data.length)).order(ByteOrder.LITTLE_ENDIAN);
        body.asFloatBuffer().put(data);
        AtomicFiles.write(file, out -> {
            out.write(header);
            out.write(body.array());
        });
    }

    /** Reads a float32 .npy file (little-endian, C order); anything else is a one-line error naming the file. */
    public static Array read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file.toString(), bytes);
    }

    /** Parses the bytes of a .npy file; {@code where} names it in errors. */
    static Array parse(String where, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < MAGIC.length + 4 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw bad(where, "not a .npy file (no \\x93NUMPY magic)");
        }
        int major = bytes[6], minor = bytes[7];
        b.position(8);
        long headerLength;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(b.getShort());
        } else if (major == 2 && bytes.length >= 12) {
            headerLength = Integer.toUnsignedLong(b.getInt());
        } else {
            throw bad(where, "format version " + major + "." + minor + " is not supported (1.0 and 2.0 are)");
        }
        int start = b.position();
        if (headerLength > MAX_HEADER || start + headerLength > bytes.length) {
            throw bad(where, "header length " + headerLength + " exceeds the file (" + bytes.length + " bytes)");
        }
        String header = new String(bytes, start, (int) headerLength, StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(header);
        Matcher order = ORDER.matcher(header);
        Matcher shapeText = SHAPE.matcher(header);
        if (!header.startsWith("{") || !descr.find() || !order.find() || !shapeText.find()) {
            throw bad(where, "header is not a dict with 'descr', 'fortran_order' and 'shape': " + header.strip());
        }
        if (!descr.group(1).equals("<f4")) {
            throw bad(where, "dtype '" + descr.group(1) + "' is not supported (little-endian float32 '<f4' is)");
        }
        if (order.group(1).equals("True")) {
            throw bad(where, "Fortran-order arrays are not supported (C order is)");
        }
        String[] parts = shapeText.group(1).split(",");
        int dims = 0;
        int[] shape = new int[parts.length];
        long count = 1;
        for (String part : parts) {
            String s = part.strip();
            if (s.isEmpty()) {
                continue; // the trailing comma of a 1-tuple, or the empty tuple of a scalar
            }
            long d;
            try {
                d = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw bad(where, "shape entry '" + s + "' is not an integer");
            }
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw bad(where, "shape entry " + d + " is out of range");
            }
            count *= d;
            if (count > Integer.MAX_VALUE - 8) {
                throw bad(where, "shape (" + shapeText.group(1) + ") is larger than a Java array");
            }
            shape[dims++] = (int) d;
        }
        long dataStart = start + headerLength;
        long expected = 4 * count;
        if (bytes.length - dataStart != expected) {
            throw bad(where, "shape (" + shapeText.group(1).strip() + ") needs " + expected + " data bytes, the file has "
                    + (bytes.length - dataStart));
        }
        float[] data = new float[(int) count];
        b.position((int) dataStart);
        b.asFloatBuffer().get(data);
        return new Array(data, Arrays.copyOf(shape, dims));
    }

    private static IllegalArgumentException bad(String where, String message) {
        return new IllegalArgumentException(where + ": " + message);
    }
}
