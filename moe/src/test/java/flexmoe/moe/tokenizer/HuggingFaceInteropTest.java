package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hugging Face's own tokenizers library (Rust, through DJL's bindings) reads the tokenizer.json that flexmoe writes
 * and encodes and decodes every string exactly as {@link BpeTokenizer} does.
 */
class HuggingFaceInteropTest {

    private static Path dir;
    private static BpeTokenizer ours;
    private static HuggingFaceTokenizer theirs;

    @BeforeContainer
    static void loadBoth() throws IOException {
        dir = Files.createTempDirectory("hf-interop");
        // DJL unpacks its native library into a cache: keep it in the build output, not the home directory.
        System.setProperty("DJL_CACHE_DIR", Path.of("target", "djl").toAbsolutePath().toString());
        ours = Reference.tokenizer();
        Path file = dir.resolve("tokenizer.json");
        ours.save(file);
        theirs = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "false", "truncation", "false",
                "padding", "false"));
    }

    @AfterContainer
    static void close() throws IOException {
        theirs.close();
        Files.deleteIfExists(dir.resolve("tokenizer.json"));
        Files.deleteIfExists(dir);
    }

    @Property(tries = 1500)
    void huggingFaceEncodesAndDecodesAsWeDo(@ForAll("unicodeText") String text) {
        assertSameEncoding(text);
    }

    @Property(tries = 30)
    void onLongerSyntheticText(@ForAll("syntheticText") String text) {
        assertSameEncoding(text);
    }

    private static void assertSameEncoding(String text) {
        int[] ids = ours.encode(text);
        long[] hf = theirs.encode(text, false, false).getIds();
        assertThat(Arrays.stream(hf).mapToInt(Math::toIntExact).toArray()).isEqualTo(ids);
        long[] asLong = Arrays.stream(ids).asLongStream().toArray();
        assertThat(theirs.decode(asLong, false)).isEqualTo(ours.decode(ids));
    }

    @Provide
    Arbitrary<String> unicodeText() {
        return Generators.unicodeText();
    }

    @Provide
    Arbitrary<String> syntheticText() {
        return net.jqwik.api.Arbitraries.longs().map(seed -> new SyntheticText(seed, 300).mixed(3000));
    }
}
