package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPT-2's encoder.json + vocab.bpe, on files this test writes in that format from a trained tokenizer. */
class Gpt2FilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final BpeTokenizer trained = Reference.tokenizer();
    private Path encoder;
    private Path vocabBpe;
    private ObjectNode encoderJson;
    private List<String> mergeLines;

    /** The trained tokenizer renumbered as GPT-2 numbers its vocabulary: bytes in GPT-2's order, merges, EOS last. */
    @BeforeEach
    void writeGpt2Files() throws IOException {
        encoderJson = JSON.createObjectNode();
        int next = 0;
        for (int i = 0; i < 256; i++) {
            encoderJson.put(String.valueOf(ByteLevel.charOf(ByteLevel.gpt2Order(i))), next++);
        }
        for (int id = 256; id < trained.vocabSize(); id++) {
            if (id != trained.eosId()) {
                encoderJson.put(trained.token(id), next++);
            }
        }
        encoderJson.put(BpeTokenizer.EOS, next);
        mergeLines = new ArrayList<>();
        mergeLines.add("#version: 0.2");
        for (int r = 0; r < trained.mergeCount(); r++) {
            int[] m = trained.merge(r);
            mergeLines.add(trained.token(m[0]) + " " + trained.token(m[1]));
        }
        encoder = dir.resolve("encoder.json");
        vocabBpe = dir.resolve("vocab.bpe");
        write();
    }

    private void write() throws IOException {
        JSON.writeValue(encoder.toFile(), encoderJson);
        Files.writeString(vocabBpe, String.join("\n", mergeLines) + "\n");
    }

    @Test
    void encodesTheSameTokensUnderGpt2sNumbering() {
        BpeTokenizer gpt2 = BpeTokenizer.loadGpt2(encoder, vocabBpe);
        assertThat(gpt2.vocabSize()).isEqualTo(trained.vocabSize());
        assertThat(gpt2.mergeCount()).isEqualTo(trained.mergeCount());
        assertThat(gpt2.eosId()).isEqualTo(trained.vocabSize() - 1);
        for (int i = 0; i < 256; i++) {
            assertThat(gpt2.token(i)).isEqualTo(String.valueOf(ByteLevel.charOf(ByteLevel.gpt2Order(i))));
        }
        String text = new SyntheticText(21).mixed(20_000);
        int[] ids = gpt2.encode(text);
        int[] expected = trained.encode(text);
        assertThat(ids).hasSameSizeAs(expected);
        for (int i = 0; i < ids.length; i++) {
            assertThat(gpt2.token(ids[i])).isEqualTo(trained.token(expected[i]));
        }
        assertThat(gpt2.decode(ids)).isEqualTo(text);
    }

    @Test
    void windowsLineEndingsAndNoVersionLineAreAccepted() throws IOException {
        Files.writeString(vocabBpe, String.join("\r\n", mergeLines.subList(1, mergeLines.size())));
        assertThat(BpeTokenizer.loadGpt2(encoder, vocabBpe).mergeCount()).isEqualTo(trained.mergeCount());
    }

    @Test
    void badMergeLinesNameTheLine() throws IOException {
        mergeLines.set(3, "abc");
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe)).isInstanceOf(TokenizerFormatException.class)
                .hasMessage(vocabBpe + ": line 4 is \"abc\", expected two tokens separated by one space");
        mergeLines.set(3, "Ġ qqqq");
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe))
                .hasMessage(vocabBpe + ": line 4 (\"Ġ qqqq\") refers to unknown token \"qqqq\"");
        mergeLines.set(3, mergeLines.get(2));
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe))
                .hasMessage(vocabBpe + ": line 4 repeats line 3 (" + BpeTokenizer.quote(mergeLines.get(2)) + ")");
        Files.write(vocabBpe, new byte[] {'a', ' ', (byte) 0xC3});
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe)).hasMessage(vocabBpe + ": not valid UTF-8");
    }

    @Test
    void badEncoderFilesAreOneLineErrors() throws IOException {
        encoderJson.remove(BpeTokenizer.EOS);
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe)).isInstanceOf(TokenizerFormatException.class)
                .hasMessage(encoder + ": no token <|endoftext|> (GPT-2's end-of-text token, flexmoe's end-of-document token)");
        encoderJson.put(BpeTokenizer.EOS, trained.vocabSize() + 10);
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe)).hasMessage(encoder
                + ": ids are not contiguous: no token has id " + (trained.vocabSize() - 1) + " (ids must be 0.."
                + (trained.vocabSize() - 1) + ")");
        encoderJson.put(BpeTokenizer.EOS, 0);
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe))
                .hasMessage(encoder + ": id 0 is given to both \"!\" and \"<|endoftext|>\"");
        encoderJson.put(BpeTokenizer.EOS, "x");
        write();
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe))
                .hasMessage(encoder + ": token \"<|endoftext|>\" has id \"x\", expected a non-negative integer");
        Files.writeString(encoder, "[1, 2]");
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe))
                .hasMessage(encoder + ": expected a JSON object of token -> id, found an array");
        Files.delete(vocabBpe);
        encoderJson.put(BpeTokenizer.EOS, trained.vocabSize() - 1);
        JSON.writeValue(encoder.toFile(), encoderJson);
        assertThatThrownBy(() -> BpeTokenizer.loadGpt2(encoder, vocabBpe)).hasMessage(vocabBpe + ": no such file");
    }
}
