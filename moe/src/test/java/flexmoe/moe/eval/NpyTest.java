package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path dir;

    @Test
    void headerFollowsTheFormatSpecification() {
        byte[] h = Npy.header(2, 3);
        assertThat(Arrays.copyOf(h, 8)).containsExactly(0x93 - 256, 'N', 'U', 'M', 'P', 'Y', 1, 0);
        int len = ByteBuffer.wrap(h, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        assertThat(h.length).isEqualTo(10 + len).isEqualTo(64 * ((h.length + 63) / 64));
        String dict = new String(h, 10, len, StandardCharsets.US_ASCII);
        assertThat(dict).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
        assertThat(dict.substring(0, dict.length() - 1).strip())
                .isEqualTo("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
        assertThat(new String(Npy.header(5), StandardCharsets.US_ASCII)).contains("'shape': (5,), }");
        assertThat(new String(Npy.header(), StandardCharsets.US_ASCII)).contains("'shape': (), }");
        // A long shape needs a second 64-byte block.
        assertThat(Npy.header(1000000, 1000000, 1000000, 1000000, 1000000).length).isEqualTo(128);
    }

    @Test
    void writeThenReadGivesTheSameBitsAndShape() throws IOException {
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -1.5f};
        List<int[]> shapes = List.of(new int[] {2, 3}, new int[] {6}, new int[] {1, 2, 3}, new int[] {0, 4}, new int[0]);
        for (int[] shape : shapes) {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] data = Arrays.copyOf(special, n);
            Path file = dir.resolve("a" + shape.length + ".npy");
            Npy.write(file, data, shape);
            assertThat(Files.size(file) % 64).isEqualTo(4L * n % 64);
            Npy.Array back = Npy.read(file);
            assertThat(back.shape()).isEqualTo(shape);
            for (int i = 0; i < n; i++) {
                assertThat(Float.floatToRawIntBits(back.data()[i])).isEqualTo(Float.floatToRawIntBits(data[i]));
            }
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temporary files left")
                    .allMatch(name -> name.endsWith(".npy") && !name.startsWith("."));
        }
    }

    @Test
    void badFilesGiveOneLineErrorsNamingTheFile() throws IOException {
        Path good = dir.resolve("good.npy");
        Npy.write(good, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        byte[] bytes = Files.readAllBytes(good);
        String header = new String(bytes, 10, bytes.length - 10 - 24, StandardCharsets.US_ASCII);

        assertThat(error(Arrays.copyOf(bytes, 5))).isEqualTo("f.npy: not a .npy file (no \\x93NUMPY magic)");
        byte[] v3 = bytes.clone();
        v3[6] = 3;
        assertThat(error(v3)).isEqualTo("f.npy: format version 3.0 is not supported (1.0 and 2.0 are)");
        assertThat(error(Arrays.copyOf(bytes, bytes.length - 1)))
                .isEqualTo("f.npy: shape (2, 3) needs 24 data bytes, the file has 23");
        assertThat(error(withHeader(bytes, header.replace("<f4", "<f8"))))
                .isEqualTo("f.npy: dtype '<f8' is not supported (little-endian float32 '<f4' is)");
        assertThat(error(withHeader(bytes, header.replace("<f4", ">f4"))))
                .isEqualTo("f.npy: dtype '>f4' is not supported (little-endian float32 '<f4' is)");
        assertThat(error(withHeader(bytes, header.replace("False", "True"))))
                .isEqualTo("f.npy: Fortran-order arrays are not supported (C order is)");
        assertThat(error(withHeader(bytes, header.replace("(2, 3)", "(2, x)"))))
                .isEqualTo("f.npy: shape entry 'x' is not an integer");
        assertThat(error(withHeader(bytes, header.replace("(2, 3)", "(99999999999)"))))
                .isEqualTo("f.npy: shape entry 99999999999 is out of range");
        assertThat(error(withHeader(bytes, header.replace("(2, 3)", "(65536, 65536)"))))
                .isEqualTo("f.npy: shape (65536, 65536) is larger than a Java array");
        assertThat(error(withHeader(bytes, "[1, 2]"))).startsWith("f.npy: header is not a dict with");
        byte[] lying = bytes.clone();
        lying[8] = (byte) 0xFF;
        lying[9] = (byte) 0x7F;
        assertThat(error(lying)).isEqualTo("f.npy: header length 32767 exceeds the file (" + bytes.length + " bytes)");
        assertThatThrownBy(() -> Npy.read(dir.resolve("missing.npy"))).hasMessage(dir.resolve("missing.npy")
                + ": no such file");
        assertThatThrownBy(() -> Npy.write(dir.resolve("x.npy"), new float[5], 2, 3))
                .hasMessage("npy: shape [2, 3] holds 6 values, the data has 5");
        // Like every flexmoe output, the file's directory is created; a directory that cannot be is an error.
        Npy.write(dir.resolve("new/dir/x.npy"), new float[1], 1);
        assertThat(dir.resolve("new/dir/x.npy")).exists();
        java.nio.file.Files.writeString(dir.resolve("plain-file"), "");
        assertThatThrownBy(() -> Npy.write(dir.resolve("plain-file/x.npy"), new float[1], 1))
                .hasMessageStartingWith(dir.resolve("plain-file/x.npy") + ": cannot write: ");
    }

    private static String error(byte[] bytes) {
        try {
            Npy.parse("f.npy", bytes);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error");
    }

    /** The file with its header text replaced (the header length field updated). */
    private static byte[] withHeader(byte[] file, String header) {
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.put(file, 0, 8).putShort((short) h.length).put(h).put(file, file.length - 24, 24);
        return b.array();
    }

    @Test
    void numpyReadsWhatWeWriteAndWeReadWhatNumpyWrites() throws Exception {
        Assumptions.assumeTrue(python("import numpy") == 0,
                "python3 with numpy is not installed here: the cross-check with NumPy is skipped");
        Path ours = dir.resolve("ours.npy");
        float[] data = {1.5f, -2.25f, 3f, 0.1f, Float.MAX_VALUE, -0f};
        Npy.write(ours, data, 3, 2);
        Path check = dir.resolve("check.txt");
        assertThat(python("import numpy as np; a = np.load('" + ours + "'); "
                + "open('" + check + "', 'w').write(repr((a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'],"
                + " [int(x) for x in a.view('<u4').ravel()])))")).isZero();
        StringBuilder bits = new StringBuilder();
        for (float f : data) {
            bits.append(bits.isEmpty() ? "" : ", ").append(Integer.toUnsignedString(Float.floatToRawIntBits(f)));
        }
        assertThat(Files.readString(check)).isEqualTo("('<f4', (3, 2), True, [" + bits + "])");

        Path theirs = dir.resolve("theirs.npy");
        assertThat(python("import numpy as np; np.save('" + theirs + "', "
                + "np.arange(12, dtype=np.float32).reshape(3, 4) / 8)")).isZero();
        Npy.Array a = Npy.read(theirs);
        assertThat(a.shape()).containsExactly(3, 4);
        for (int i = 0; i < 12; i++) {
            assertThat(a.data()[i]).isEqualTo(i / 8f);
        }
        assertThat(Files.readAllBytes(theirs)).as("NumPy's own bytes for the same array")
                .isEqualTo(bytesOf(dir.resolve("again.npy"), a));
    }

    private static byte[] bytesOf(Path file, Npy.Array a) throws IOException {
        Npy.write(file, a.data(), a.shape());
        return Files.readAllBytes(file);
    }

    private static int python(String code) {
        try {
            Process p = new ProcessBuilder("python3", "-c", code).redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
