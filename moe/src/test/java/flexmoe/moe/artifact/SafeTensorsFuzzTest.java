package flexmoe.moe.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the reader with corrupt and hostile files made from a valid artifact: truncations, flipped bytes,
 * rewritten headers (lying lengths, huge shapes, negative or overlapping offsets, wrong types, deep nesting), and
 * random bytes. Every case must end in success or an {@link ArtifactFormatException} with a one-line message: never
 * another exception type, an OutOfMemoryError or StackOverflowError (both are Errors the harness catches and reports),
 * or a hang (the timeout is a hang guard, not a speed assertion).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SafeTensorsFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private byte[] valid;
    private long headerLength;
    private ObjectNode header;
    private byte[] data;
    private Path target;
    private final List<String> outcomes = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        Path f = dir.resolve("valid.safetensors");
        ArtifactTesting.expert(ArtifactTesting.publicModel(3), "math", 4).save(f);
        valid = Files.readAllBytes(f);
        headerLength = ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        header = (ObjectNode) JSON.readTree(new String(valid, 8, (int) headerLength, StandardCharsets.UTF_8));
        data = Arrays.copyOfRange(valid, 8 + (int) headerLength, valid.length);
        target = dir.resolve("case.safetensors");
        assertThat(Artifact.load(f)).isInstanceOf(ExpertArtifact.class);
    }

    /** Loads the bytes as an artifact; returns "ok" or "error", fails on anything else. */
    private String load(String what, byte[] bytes) throws IOException {
        Files.write(target, bytes);
        try {
            Artifact.load(target);
            outcomes.add("ok");
            return "ok";
        } catch (ArtifactFormatException e) {
            assertThat(e.getMessage()).as(what).startsWith(target + ": ").doesNotContain("\n", "\r");
            outcomes.add("error");
            return "error";
        } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
        }
    }

    @Test
    void everyTruncationIsAnError() throws IOException {
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 150; i++) {
            int length = i < 20 ? i : rng.nextInt(valid.length);
            assertThat(load("truncated to " + length, Arrays.copyOf(valid, length))).as("length " + length)
                    .isEqualTo("error");
        }
    }

    /** A flipped data byte is caught by the metadata's dataSha256; a flipped header byte may still parse. */
    @Test
    void flippedBytesAreErrorsOrHarmless() throws IOException {
        SplittableRandom rng = new SplittableRandom(2);
        int dataStart = 8 + (int) headerLength;
        int dataErrors = 0, dataCases = 0;
        for (int i = 0; i < 200; i++) {
            byte[] bytes = valid.clone();
            int flips = 1 + rng.nextInt(3);
            boolean inData = rng.nextBoolean();
            for (int j = 0; j < flips; j++) {
                int pos = inData ? dataStart + rng.nextInt(data.length) : rng.nextInt(dataStart);
                bytes[pos] ^= (byte) (1 + rng.nextInt(255));
            }
            String outcome = load("flip case " + i, bytes);
            if (inData) {
                dataCases++;
                dataErrors += outcome.equals("error") ? 1 : 0;
            }
        }
        assertThat(dataErrors).isEqualTo(dataCases);
        assertThat(outcomes).contains("error");
    }

    @Test
    void lyingHeaderLengthsAreErrors() throws IOException {
        SplittableRandom rng = new SplittableRandom(3);
        long[] lies = {0, 1, 7, headerLength - 1, headerLength + 1, headerLength + 8, valid.length - 8,
                valid.length, Long.MAX_VALUE, Long.MIN_VALUE, -1, 1L << 32, SafeTensors.MAX_HEADER_BYTES + 1};
        List<Long> all = new ArrayList<>();
        for (long l : lies) {
            all.add(l);
        }
        for (int i = 0; i < 30; i++) {
            all.add(rng.nextLong());
        }
        for (long n : all) {
            byte[] bytes = valid.clone();
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
            assertThat(load("header length " + n, bytes)).as("header length " + n).isEqualTo("error");
        }
    }

    /** Header rewrites that are each invalid by construction. */
    @Test
    void rewrittenHeadersAreErrors() throws IOException {
        List<String> tensors = new ArrayList<>();
        for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
            String n = it.next();
            if (!n.equals(SafeTensors.METADATA_KEY)) {
                tensors.add(n);
            }
        }
        List<Consumer<ObjectNode>> mutations = entryMutations();
        SplittableRandom rng = new SplittableRandom(4);
        int cases = 0;
        for (int i = 0; i < 250; i++) {
            ObjectNode h = header.deepCopy();
            String name = tensors.get(rng.nextInt(tensors.size()));
            int m = rng.nextInt(mutations.size() + 6);
            String text;
            if (m < mutations.size()) {
                mutations.get(m).accept((ObjectNode) h.get(name));
                text = h.toString();
            } else {
                text = switch (m - mutations.size()) {
                    case 0 -> {
                        h.set(name, deep(rng.nextInt(10, 50_000)));
                        yield h.toString();
                    }
                    case 1 -> "[".repeat(rng.nextInt(10, 200_000));
                    case 2 -> {
                        ObjectNode meta = (ObjectNode) h.get(SafeTensors.METADATA_KEY);
                        meta.put("flexmoe", rng.nextInt(100));
                        yield h.toString();
                    }
                    case 3 -> { // the same tensor twice, spliced into the text
                        String entry = "\"" + name + "\":" + h.get(name) + ",";
                        yield "{" + entry + h.toString().substring(1);
                    }
                    case 4 -> { // a neighbouring tensor's offsets: an overlap
                        String other = tensors.get((tensors.indexOf(name) + 1) % tensors.size());
                        ((ObjectNode) h.get(name)).set("data_offsets", h.get(other).get("data_offsets"));
                        yield h.toString();
                    }
                    default -> { // tensor left out: a gap or bytes left over
                        h.remove(name);
                        yield h.toString();
                    }
                };
            }
            byte[] json = text.getBytes(StandardCharsets.UTF_8);
            long n = rng.nextInt(4) == 0 ? json.length + rng.nextInt(-4, 5) : json.length;
            byte[] bytes = SafeTensorsTest.layout(n, json, data);
            assertThat(load("mutation " + m + " of " + name, bytes)).as("case " + i + ", mutation " + m)
                    .isEqualTo("error");
            cases++;
        }
        assertThat(cases).isEqualTo(250);
    }

    private static List<Consumer<ObjectNode>> entryMutations() {
        List<Consumer<ObjectNode>> list = new ArrayList<>();
        long big = 1L << 62;
        for (Object shape : new Object[] {List.of(Integer.MAX_VALUE, Integer.MAX_VALUE), List.of(big),
                List.of(-1), List.of(1e30), "x", List.of(), List.of(0), List.of(big, 0)}) {
            list.add(e -> e.set("shape", JSON.valueToTree(shape)));
        }
        list.add(e -> e.set("shape", null));
        list.add(e -> ((ArrayNode) e.get("shape")).add(3));
        for (Object offsets : new Object[] {List.of(-8, 0), List.of(0, Long.MAX_VALUE),
                List.of(BigInteger.TWO.pow(80), BigInteger.TWO.pow(81)), List.of(8, 0), List.of(0), List.of(0, 0),
                List.of(0.5, 8), "0-8"}) {
            list.add(e -> e.set("data_offsets", JSON.valueToTree(offsets)));
        }
        list.add(e -> {
            ArrayNode o = (ArrayNode) e.get("data_offsets");
            long end = o.get(1).longValue();
            o.set(1, end + 4); // one value more than the shape holds
        });
        for (Object dtype : new Object[] {"F16", "BF16", "I64", "f32", "", 4, List.of("F32")}) {
            list.add(e -> e.set("dtype", JSON.valueToTree(dtype)));
        }
        list.add(e -> e.remove("dtype"));
        list.add(e -> e.remove("shape"));
        list.add(e -> e.remove("data_offsets"));
        list.add(e -> e.put("extra", 1));
        return list;
    }

    private static JsonNode deep(int depth) {
        ArrayNode root = JSON.createArrayNode();
        ArrayNode a = root;
        for (int i = 0; i < Math.min(depth, 500); i++) {
            a = a.addArray(); // Jackson's tree writer recurses: keep the tree shallow, the text is nested in case 1
        }
        return root;
    }

    @Test
    void randomBytesAreErrors() throws IOException {
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 100; i++) {
            byte[] bytes = new byte[rng.nextInt(0, 4096)];
            rng.nextBytes(bytes);
            if (bytes.length >= 8 && rng.nextBoolean()) { // a plausible length so the JSON parser gets garbage
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, rng.nextInt(bytes.length - 7));
            }
            assertThat(load("random " + i, bytes)).isEqualTo("error");
        }
    }

    /** The container alone, fuzzed the same way: flips of a plain safetensors file never escape as another type. */
    @Test
    void containerFlipsAreErrorsOrHarmless() throws IOException {
        SplittableRandom rng = new SplittableRandom(6);
        for (int i = 0; i < 200; i++) {
            byte[] bytes = valid.clone();
            for (int j = 0; j < 1 + rng.nextInt(4); j++) {
                bytes[rng.nextInt(Math.min(bytes.length, 8 + (int) headerLength + 64))] ^= (byte) (1 << rng.nextInt(8));
            }
            Files.write(target, bytes);
            try {
                SafeTensors.read(target);
            } catch (ArtifactFormatException e) {
                assertThat(e.getMessage()).doesNotContain("\n");
            } catch (Throwable t) {
                throw new AssertionError("container flip case " + i + ": " + t, t);
            }
        }
    }
}
