package flexmoe.moe.router;

import static flexmoe.moe.router.RouterTesting.f32;
import static flexmoe.moe.router.RouterTesting.f64;
import static flexmoe.moe.router.RouterTesting.npy;
import static flexmoe.moe.router.RouterTesting.safetensors;
import static flexmoe.moe.router.RouterTesting.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The external strategy: .npy and safetensors files, [N, d] or [d], and every way such a file can be wrong. */
class ExternalEmbeddingInitTest {

    private static Backend backend;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void npyRowsPerDocumentAreAveraged() {
        float[] rows = RouterTesting.randomValues(7 * 5, 1);
        Path f = write(dir, "news.npy", npy(1, "<f4", false, "(7, 5)", f32(rows)));
        RouterEmbedding r = new ExternalEmbeddingInit(f, 5, backend).routerEmbedding("news", List.of());
        assertThat(r.strategy()).isEqualTo("external");
        assertThat(r.documents()).isEqualTo(7);
        assertClose(r.vector(), RouterTesting.mean(rows, 7, 5), 1e-6);
    }

    @Test
    void npyPrecomputedMeanIsUsedAsItIs() {
        float[] v = RouterTesting.randomValues(6, 2);
        Path f = write(dir, "mean.npy", npy(1, "<f4", false, "(6,)", f32(v)));
        RouterEmbedding r = new ExternalEmbeddingInit(f, 6, backend).routerEmbedding("math", List.of("ignored"));
        assertThat(r.vector()).isEqualTo(v);
        assertThat(r.documents()).isEqualTo(1);
    }

    @Test
    void npyFloat64AndFormatVersion2() {
        double[] v = {0.25, -1.5, 3.0, 1e-3};
        Path f = write(dir, "d.npy", npy(2, "<f8", false, "(2, 2)", f64(v)));
        float[] got = new ExternalEmbeddingInit(f, 2, backend).routerEmbedding("x", List.of()).vector();
        assertClose(got, new double[] {(0.25 + 3.0) / 2, (-1.5 + 1e-3) / 2}, 1e-7);
    }

    @Test
    void safetensorsOneTensorRowsOrMean() {
        float[] rows = RouterTesting.randomValues(3 * 4, 3);
        Path f = write(dir, "code.safetensors", safetensors("{\"__metadata__\":{\"embedder\":\"gritlm\"},"
                + "\"embeddings\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}}", f32(rows)));
        RouterEmbedding r = new ExternalEmbeddingInit(f, 4, backend).routerEmbedding("code", List.of());
        assertThat(r.documents()).isEqualTo(3);
        assertClose(r.vector(), RouterTesting.mean(rows, 3, 4), 1e-6);

        float[] mean = RouterTesting.randomValues(4, 4);
        Path g = write(dir, "mean.safetensors", safetensors(
                "{\"r\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", f32(mean)));
        assertThat(new ExternalEmbeddingInit(g, 4, backend).routerEmbedding("code", List.of()).vector())
                .isEqualTo(mean);
    }

    @Test
    void npyErrorsNameTheFileAndTheProblem() {
        byte[] four = f32(new float[] {1, 2, 3, 4});
        expectError(npy(1, "<f4", false, "(2, 2)", four), "w.npy", 3, "width 2, expected d_model = 3");
        expectError(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "m.npy", 2, "no \\x93NUMPY magic");
        expectError(npy(1, ">f4", false, "(4,)", four), "be.npy", 4, "dtype '>f4' is not supported");
        expectError(npy(1, "<i4", false, "(4,)", four), "i.npy", 4, "dtype '<i4' is not supported");
        expectError(npy(1, "<f4", true, "(2, 2)", four), "f.npy", 2, "fortran_order True is not supported");
        expectError(npy(1, "<f4", false, "(3, 2)", four), "t.npy", 2, "shape [3, 2] needs 24 bytes of data, the file has 16");
        expectError(npy(1, "<f4", false, "(1, 2, 2)", four), "3d.npy", 2, "must be [N, d]");
        expectError(npy(1, "<f4", false, "(0, 4)", new byte[0]), "e.npy", 4, "empty or negative dimension");
        expectError(npy(1, "<f4", false, "(x, 4)", four), "x.npy", 4, "shape entry 'x' is not an integer");
        expectError(npy(1, "<f4", false, "(4294967296, 4294967296)", four), "huge.npy", 4, "is too large");
        expectError(npy(4, "<f4", false, "(4,)", four), "v4.npy", 4, "unsupported .npy format version 4");
        expectError(npy(1, "<f4", false, "(2, 2)", f32(new float[] {1, 2, Float.NaN, 4})), "nan.npy", 2,
                "value [1, 0] is NaN");
        expectError(npy(1, "<f8", false, "(2,)", f64(new double[] {1, 1e300})), "big.npy", 2,
                "value [0, 1] is 1.0E300 (overflows float32)");
        byte[] lying = npy(1, "<f4", false, "(4,)", four);
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 60000);
        expectError(lying, "lying.npy", 4, "does not fit the file");
    }

    @Test
    void safetensorsErrorsNameTheTensorAndTheProblem() {
        byte[] four = f32(new float[] {1, 2, 3, 4});
        expectError(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", four), "two.safetensors", 2,
                "expected exactly one tensor, found 2 [a, b]");
        expectError(safetensors("{\"a\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[0,16]}}", four),
                "h.safetensors", 8, "tensor a: dtype \"F16\" is not supported");
        expectError(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,32]}}", four),
                "o.safetensors", 4, "tensor a: data_offsets [0, 32] are outside the data section of 16 bytes");
        expectError(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", four),
                "s.safetensors", 3, "tensor a: shape [3] needs 12 bytes of data, data_offsets span 16");
        expectError(safetensors("{\"a\": [1, 2", four), "j.safetensors", 4, "header is not valid JSON");
        expectError(safetensors("[1]", four), "arr.safetensors", 4, "header is not a JSON object");
        expectError(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", four),
                "q.safetensors", 4, "shape entry \"4\" is not an integer");
        byte[] huge = safetensors("{}", four);
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        expectError(huge, "huge.safetensors", 4, "header length 9223372036854775807 does not fit the file");
        expectError(new byte[] {1, 2, 3}, "short.safetensors", 4, "truncated");
        expectError(four, "e.txt", 4, "expected a .npy or .safetensors file");
        assertThatThrownBy(() -> new ExternalEmbeddingInit(dir.resolve("missing.npy"), 4, backend))
                .hasMessageContaining("missing.npy: not found");
    }

    /**
     * Seeded corruptions of valid files (truncations, flipped bytes, rewritten length fields): each either reads or
     * fails with this strategy's error types; nothing else escapes and nothing allocates beyond the file.
     */
    @Test
    void fuzzedFilesGiveClearErrorsOrValidReads() {
        byte[] goodNpy = npy(1, "<f4", false, "(3, 4)", f32(RouterTesting.randomValues(12, 5)));
        byte[] goodSt = safetensors("{\"__metadata__\":{\"k\":\"v\"},\"e\":{\"dtype\":\"F32\",\"shape\":[3,4],"
                + "\"data_offsets\":[0,48]}}", f32(RouterTesting.randomValues(12, 6)));
        SplittableRandom rng = new SplittableRandom(7);
        int reads = 0, errors = 0;
        for (int i = 0; i < 400; i++) {
            boolean isNpy = i % 2 == 0;
            byte[] b = (isNpy ? goodNpy : goodSt).clone();
            switch (rng.nextInt(4)) {
                case 0 -> b = java.util.Arrays.copyOf(b, rng.nextInt(b.length));
                case 1 -> {
                    for (int k = 1 + rng.nextInt(4); k > 0; k--) {
                        b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
                    }
                }
                case 2 -> {
                    // rewrite the length field with a random (often huge or negative) value
                    int at = isNpy ? 8 : 0;
                    b[at + rng.nextInt(isNpy ? 2 : 8)] = (byte) rng.nextInt(256);
                }
                default -> b[rng.nextInt(Math.min(b.length, 80))] = (byte) "{}[],:\"0123456789-e".charAt(rng.nextInt(19));
            }
            Path f = write(dir, "fuzz" + i + (isNpy ? ".npy" : ".safetensors"), b);
            try {
                new ExternalEmbeddingInit(f, 4, backend);
                reads++;
            } catch (IllegalArgumentException | UncheckedIOException e) {
                assertThat(e.getMessage()).startsWith("embedding file " + f);
                errors++;
            }
        }
        assertThat(errors).isGreaterThan(100);
        assertThat(reads + errors).isEqualTo(400);
    }

    private void expectError(byte[] content, String name, int width, String message) {
        Path f = write(dir, name, content);
        assertThatThrownBy(() -> new ExternalEmbeddingInit(f, width, backend))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("embedding file " + f)
                .hasMessageContaining(message);
    }

    static void assertClose(float[] got, double[] expected, double tol) {
        assertThat(got).hasSize(expected.length);
        for (int i = 0; i < got.length; i++) {
            assertThat((double) got[i]).as("value %d", i).isCloseTo(expected[i], within(tol * (1 + Math.abs(expected[i]))));
        }
    }
}
