package flexmoe.moe.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.moe.model.NamedTensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The safetensors container against byte layouts built by hand from the format's description: reading, the writer's
 * exact bytes, round trips, atomic writes, and one clear error per kind of bad header.
 */
class SafeTensorsTest {

    @TempDir
    Path dir;

    /** 8-byte little-endian length, the header bytes, the data. */
    static byte[] layout(long headerLength, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] layout(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return layout(h.length, h, data);
    }

    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private Path file(byte[] bytes) throws IOException {
        return Files.write(Files.createTempFile(dir, "t", ".safetensors"), bytes);
    }

    @Test
    void readsAHandBuiltFile() throws IOException {
        // Entries out of offset order, a scalar, an empty tensor, metadata, and padding spaces after the JSON.
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[4,28]},"
                + "\"__metadata__\":{\"format\":\"pt\",\"note\":\"h\u00e9\"},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"e\":{\"shape\":[0,5],\"data_offsets\":[28,28],\"dtype\":\"F32\"}}   ";
        byte[] bytes = layout(header, floats(-1.5f, 1, 2, 3, 4, 5, 6));
        Path f = file(bytes);

        SafeTensors.Contents c = SafeTensors.read(f);

        assertThat(c.header().metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("note", "hé"));
        assertThat(c.tensors()).extracting(NamedTensor::name).containsExactly("s", "w", "e");
        assertThat(c.tensors().get(0).shape()).isEmpty();
        assertThat(c.tensors().get(0).data()).containsExactly(-1.5f);
        assertThat(c.tensors().get(1).shape()).containsExactly(2, 3);
        assertThat(c.tensors().get(1).data()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(c.tensors().get(2).shape()).containsExactly(0, 5);
        assertThat(c.tensors().get(2).data()).isEmpty();
        assertThat(c.header().dataBytes()).isEqualTo(28);
        assertThat(c.fileSha256().sha256()).isEqualTo(sha256(bytes));
        assertThat(c.dataSha256()).isEqualTo(sha256(floats(-1.5f, 1, 2, 3, 4, 5, 6)));
        assertThat(SafeTensors.readHeader(f).entries()).extracting(SafeTensors.Entry::name)
                .containsExactly("s", "w", "e");
    }

    /** The writer's bytes, spelled out from the format: sorted names, compact JSON, space padding to 8. */
    @Test
    void writesTheDocumentedBytes() throws IOException {
        List<NamedTensor> tensors = List.of(
                new NamedTensor("b", new int[] {2}, new float[] {1, 2}),
                new NamedTensor("a", new int[] {1, 2}, new float[] {3, -4}));
        Path f = dir.resolve("out.safetensors");

        ArtifactFingerprint fp = SafeTensors.write(f, tensors, Map.of("z", "1", "k", "v"));

        String json = "{\"__metadata__\":{\"k\":\"v\",\"z\":\"1\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
        String padded = json + " ".repeat((8 - json.length() % 8) % 8);
        byte[] expected = layout(padded, floats(3, -4, 1, 2));
        byte[] written = Files.readAllBytes(f);
        assertThat(written).isEqualTo(expected);
        assertThat(padded.length() % 8).isZero();
        assertThat(fp.sha256()).isEqualTo(sha256(expected));
        assertThat(SafeTensors.fingerprint(tensors, Map.of("k", "v", "z", "1"))).isEqualTo(fp);
        assertThat(SafeTensors.dataSha256(tensors)).isEqualTo(sha256(floats(3, -4, 1, 2)));
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(f); // no temporary file left
        }
    }

    @Test
    void roundTripsAndWritesTheSameBytesTwice() throws IOException {
        List<NamedTensor> tensors = List.of(
                new NamedTensor("model.layers.10.x", new int[] {3, 4}, ArtifactTesting.gaussian(12, 1, 1)),
                new NamedTensor("model.layers.2.x", new int[] {5}, ArtifactTesting.gaussian(5, 1, 2)),
                new NamedTensor("\u00e9t\u00e9", new int[] {1, 1, 1}, new float[] {Float.MIN_VALUE}),
                new NamedTensor("big", new int[] {300_000}, ArtifactTesting.gaussian(300_000, 1, 3)));
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafeTensors.write(a, tensors, Map.of());
        SafeTensors.write(b, List.of(tensors.get(3), tensors.get(1), tensors.get(0), tensors.get(2)), Map.of());

        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        SafeTensors.Contents c = SafeTensors.read(a);
        assertThat(c.header().metadata()).isEmpty();
        // UTF-8 byte order: "big" < "model.layers.10.x" < "model.layers.2.x" < "été"
        assertThat(c.tensors()).extracting(NamedTensor::name)
                .containsExactly("big", "model.layers.10.x", "model.layers.2.x", "\u00e9t\u00e9");
        for (NamedTensor t : tensors) {
            NamedTensor r = c.tensors().stream().filter(x -> x.name().equals(t.name())).findFirst().orElseThrow();
            assertThat(r.shape()).isEqualTo(t.shape());
            assertThat(ArtifactTesting.sameBits(r.data(), t.data())).as(t.name()).isTrue();
        }
    }

    @Test
    void aFailedWriteLeavesNoFileAndKeepsTheOldOne() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, List.of(new NamedTensor("a", new int[] {1}, new float[] {1})), Map.of());
        byte[] before = Files.readAllBytes(f);

        assertThatThrownBy(() -> SafeTensors.write(f, List.of(
                new NamedTensor("a", new int[] {2, 2}, new float[] {1, 2, Float.NaN, 4})), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("safetensors: cannot write tensor 'a': value NaN at index [1, 0] is not finite");
        assertThatThrownBy(() -> SafeTensors.write(f, List.of(new NamedTensor("a", new int[] {1}, new float[] {1}),
                new NamedTensor("a", new int[] {1}, new float[] {2})), Map.of()))
                .hasMessageContaining("the name appears twice");
        assertThatThrownBy(() -> SafeTensors.write(f, List.of(new NamedTensor("__metadata__", new int[] {1},
                new float[] {1})), Map.of())).hasMessageContaining("other than __metadata__");

        assertThat(Files.readAllBytes(f)).isEqualTo(before);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(f);
        }
    }

    @Test
    void aMissingFileIsAnIoError() {
        assertThatThrownBy(() -> SafeTensors.read(dir.resolve("nope.safetensors")))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageEndingWith("nope.safetensors: cannot read: no such file");
        assertThatThrownBy(() -> SafeTensors.read(dir)).isInstanceOf(ArtifactFormatException.class)
                .hasMessageEndingWith(": is a directory, not a safetensors file");
    }

    private static final String OK_ENTRY = "\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    static Stream<Arguments> badFiles() {
        byte[] two = floats(1, 2);
        return Stream.of(
                Arguments.of("short file", new byte[5], "the file has 5 bytes, fewer than the 8-byte header length"),
                Arguments.of("length past the end", layout(100, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                        "header length 100 exceeds the 2 bytes after the length field"),
                Arguments.of("huge length", layout(-1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                        "header length 18446744073709551615 exceeds the limit of 16777216 bytes"),
                Arguments.of("length 0", layout(0, new byte[0], new byte[0]),
                        "header length 0 is too short for a JSON object"),
                Arguments.of("not UTF-8", layout(4, new byte[] {'{', (byte) 0xC3, '}', ' '}, new byte[0]),
                        "the header is not valid UTF-8"),
                Arguments.of("not JSON", layout("{\"t\":", two), "the header is not valid JSON"),
                Arguments.of("an array", layout("[1, 2]", two), "the header is not a JSON object"),
                Arguments.of("trailing content", layout("{" + OK_ENTRY + "}x", two),
                        "the header is not valid JSON"),
                Arguments.of("second object", layout("{" + OK_ENTRY + "}{}", two),
                        "the header has content after its JSON object"),
                Arguments.of("entry not an object", layout("{\"t\":[1]}", two),
                        "tensor 't': expected an object {dtype, shape, data_offsets}, got an array"),
                Arguments.of("BF16", layout("{\"t\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", two),
                        "tensor 't': dtype 'BF16' is not supported (flexmoe reads F32 only)"),
                Arguments.of("dtype a number", layout("{\"t\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}",
                        two), "tensor 't': dtype must be a string, got a number"),
                Arguments.of("negative dimension", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],"
                        + "\"data_offsets\":[0,8]}}", two), "tensor 't': shape holds -2, negative"),
                Arguments.of("fractional dimension", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[2.0],"
                        + "\"data_offsets\":[0,8]}}", two), "tensor 't': shape must hold non-negative integers, got a"
                        + " number"),
                Arguments.of("shape a string", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":\"2\","
                        + "\"data_offsets\":[0,8]}}", two), "tensor 't': shape must be an array of non-negative"
                        + " integers, got a string"),
                Arguments.of("too many elements", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[65536,65536],"
                        + "\"data_offsets\":[0,8]}}", two), "tensor 't': shape [65536, 65536] has more elements than"
                        + " a Java array holds"),
                Arguments.of("dimension beyond int", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,0],"
                        + "\"data_offsets\":[0,8]}}", two), "has a dimension too large for a Java array"),
                Arguments.of("dimension beyond long", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":"
                        + "[99999999999999999999],\"data_offsets\":[0,8]}}", two), "tensor 't': shape holds"
                        + " 99999999999999999999, too large"),
                Arguments.of("rank 17", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
                        + "2],\"data_offsets\":[0,8]}}", two), "tensor 't': shape has more than 16 entries"),
                Arguments.of("offsets past the data", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],"
                        + "\"data_offsets\":[0,16]}}", two), "tensor 't': data_offsets [0, 16] reach beyond the data"
                        + " section (8 bytes)"),
                Arguments.of("offsets reversed", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],"
                        + "\"data_offsets\":[8,0]}}", two), "tensor 't': data_offsets [8, 0] end before they begin"),
                Arguments.of("size mismatch", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],"
                        + "\"data_offsets\":[0,8]}}", two), "tensor 't': data_offsets [0, 8] span 8 bytes, shape [3]"
                        + " of F32 needs 12"),
                Arguments.of("three offsets", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],"
                        + "\"data_offsets\":[0,8,8]}}", two), "tensor 't': data_offsets has more than 2 entries"),
                Arguments.of("overlap", layout("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", two),
                        "tensor 'b': data_offsets [4, 8] overlap tensor 'a' [0, 8]"),
                Arguments.of("gap", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", two),
                        "tensor 't': data_offsets [4, 8] leave bytes [0, 4) of the data section unused"),
                Arguments.of("bytes left over", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],"
                        + "\"data_offsets\":[0,4]}}", two), "the tensors cover 4 bytes of the 8-byte data section"),
                Arguments.of("duplicate tensor", layout("{" + OK_ENTRY + "," + OK_ENTRY + "}", floats(1, 2, 3, 4)),
                        "tensor 't' appears twice in the header"),
                Arguments.of("unknown key", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
                        + "\"offsets\":[0,8]}}", two), "tensor 't': unknown key 'offsets'"),
                Arguments.of("missing key", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", two),
                        "tensor 't': data_offsets is missing"),
                Arguments.of("metadata not strings", layout("{\"__metadata__\":{\"n\":1}," + OK_ENTRY + "}", two),
                        "__metadata__.'n' must be a string, got a number"),
                Arguments.of("metadata null", layout("{\"__metadata__\":null," + OK_ENTRY + "}", two),
                        "__metadata__ must be an object of strings, got null"),
                Arguments.of("deep nesting", layout("{\"t\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}",
                        two), "tensor 't': expected an object"),
                Arguments.of("deep nesting in metadata", layout("{\"__metadata__\":{\"k\":" + "[".repeat(100_000)
                        + "}}", two), "__metadata__.'k' must be a string, got an array"),
                Arguments.of("name with a newline", layout("{\"a\\nforged line\":{\"dtype\":\"F16\",\"shape\":[2],"
                        + "\"data_offsets\":[0,8]}}", two), "tensor 'a\\u000aforged line': dtype 'F16'"),
                Arguments.of("NaN value", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}",
                        floats(0, Float.NaN)), "tensor 't': value NaN at index [0, 1] is not finite"),
                Arguments.of("infinite value", layout("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],"
                        + "\"data_offsets\":[0,8]}}", floats(Float.NEGATIVE_INFINITY, 0)),
                        "tensor 't': value -Infinity at index [0] is not finite"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void aBadFileGivesOneClearLine(String what, byte[] bytes, String expected) throws IOException {
        Path f = file(bytes);
        assertThatThrownBy(() -> SafeTensors.read(f))
                .isInstanceOf(ArtifactFormatException.class)
                .hasMessageStartingWith(f + ": ")
                .hasMessageContaining(expected)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aLongNameIsShortenedInMessages() throws IOException {
        String name = "n".repeat(5000);
        Path f = file(layout("{\"" + name + "\":{\"dtype\":\"I8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
                floats(1, 2)));
        assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("n...(5000 chars)'")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(300 + f.toString().length()));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
