package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TokenizerJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SAMPLE = new SyntheticText(9).mixed(30_000);

    @TempDir
    Path dir;

    private final BpeTokenizer tokenizer = Reference.tokenizer();

    @Test
    void saveThenLoadGivesTheSameEncodingsBytesAndFingerprint() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        tokenizer.save(file);
        BpeTokenizer loaded = BpeTokenizer.load(file);
        assertThat(loaded.encode(SAMPLE)).isEqualTo(tokenizer.encode(SAMPLE));
        assertThat(loaded.vocabSize()).isEqualTo(tokenizer.vocabSize());
        assertThat(loaded.eosId()).isEqualTo(tokenizer.eosId());
        assertThat(loaded.fingerprint()).isEqualTo(tokenizer.fingerprint());
        assertThat(Files.readAllBytes(file)).isEqualTo(tokenizer.toJson().getBytes(StandardCharsets.UTF_8));
        Path again = dir.resolve("again.json");
        loaded.save(again);
        assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(file));
    }

    @Test
    void theFileHasTheFieldsHuggingFaceReads() throws IOException {
        JsonNode root = JSON.readTree(tokenizer.toJson());
        assertThat(root.path("version").asText()).isEqualTo("1.0");
        JsonNode model = root.path("model");
        assertThat(model.path("type").asText()).isEqualTo("BPE");
        assertThat(model.path("vocab").size()).isEqualTo(tokenizer.vocabSize());
        assertThat(model.path("vocab").path("Ġ").asInt()).isEqualTo(' ');
        assertThat(model.path("vocab").path(BpeTokenizer.EOS).asInt()).isEqualTo(tokenizer.eosId());
        assertThat(model.path("merges").size()).isEqualTo(tokenizer.mergeCount());
        int[] first = tokenizer.merge(0);
        assertThat(model.path("merges").get(0).asText()).isEqualTo(tokenizer.token(first[0]) + " " + tokenizer.token(first[1]));
        assertThat(model.path("dropout").isNull()).isTrue();
        assertThat(model.path("byte_fallback").asBoolean(true)).isFalse();
        for (String field : List.of("pre_tokenizer", "decoder", "post_processor")) {
            assertThat(root.path(field).path("type").asText()).as(field).isEqualTo("ByteLevel");
            assertThat(root.path(field).path("add_prefix_space").asBoolean(true)).as(field).isFalse();
        }
        assertThat(root.path("pre_tokenizer").path("use_regex").asBoolean()).isTrue();
        assertThat(root.path("normalizer").isNull()).isTrue();
        JsonNode added = root.path("added_tokens");
        assertThat(added.size()).isEqualTo(1);
        assertThat(added.get(0).path("id").asInt()).isEqualTo(tokenizer.eosId());
        assertThat(added.get(0).path("content").asText()).isEqualTo(BpeTokenizer.EOS);
        assertThat(added.get(0).path("special").asBoolean()).isTrue();
        assertThat(tokenizer.toJson()).doesNotContain("\r").endsWith("}\n").contains("\n  \"model\": {");
    }

    @Test
    void mergesWrittenAsArraysLoadToTheSameTokenizer() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(tokenizer.toJson());
        ArrayNode arrays = JsonNodeFactory.instance.arrayNode();
        for (JsonNode m : root.path("model").path("merges")) {
            String[] parts = m.asText().split(" ");
            arrays.addArray().add(parts[0]).add(parts[1]);
        }
        ((ObjectNode) root.path("model")).set("merges", arrays);
        // Also pretty-printed differently and with the added token flagged like GPT-2's file: layout does not matter.
        Path file = dir.resolve("arrays.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        BpeTokenizer loaded = BpeTokenizer.load(file);
        assertThat(loaded.encode(SAMPLE)).isEqualTo(tokenizer.encode(SAMPLE));
        assertThat(loaded.fingerprint()).isEqualTo(tokenizer.fingerprint());
    }

    @Test
    void differentTokenizersHaveDifferentFingerprints() {
        BpeTokenizer other = new BpeTrainer(400).train(List.of(SAMPLE));
        assertThat(other.fingerprint()).isNotEqualTo(tokenizer.fingerprint()).matches("[0-9a-f]{64}");
    }

    @Test
    void saveReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("sub/tokenizer.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "old");
        tokenizer.save(file);
        assertThat(BpeTokenizer.load(file).fingerprint()).isEqualTo(tokenizer.fingerprint());
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertThat(files).containsExactly(file);
        }
    }

    @Test
    void anAddedTokenOutsideTheVocabGetsItsOwnId() throws IOException {
        // Hugging Face lets added tokens live only in added_tokens; their ids then follow the vocab's.
        ObjectNode root = (ObjectNode) JSON.readTree(tokenizer.toJson());
        ((ObjectNode) root.path("model").path("vocab")).remove(BpeTokenizer.EOS);
        Path file = dir.resolve("eos-outside.json");
        JSON.writeValue(file.toFile(), root);
        BpeTokenizer loaded = BpeTokenizer.load(file);
        assertThat(loaded.eosId()).isEqualTo(tokenizer.eosId());
        assertThat(loaded.fingerprint()).isEqualTo(tokenizer.fingerprint());
    }

    // ---- load errors ----

    static Stream<Arguments> badFiles() {
        return Stream.of(
                edit("model missing", r -> r.remove("model"),
                        "missing \"model\" (a tokenizer.json has the BPE vocab and merges there)"),
                edit("model not an object", r -> r.put("model", 3), "\"model\" is a number, expected an object"),
                edit("model type", r -> model(r).put("type", "WordPiece"),
                        "model.type is \"WordPiece\"; only \"BPE\" (byte-level) is supported"),
                edit("model type missing", r -> model(r).remove("type"), "model.type missing, expected \"BPE\""),
                edit("vocab missing", r -> model(r).remove("vocab"), "model.vocab missing or not an object of token -> id"),
                edit("id not an integer", r -> vocab(r).put("Ġ", "x"),
                        "model.vocab[\"Ġ\"] is \"x\", expected a non-negative integer id"),
                edit("negative id", r -> vocab(r).put("Ġ", -4), "model.vocab[\"Ġ\"] is -4, expected a non-negative integer id"),
                edit("duplicate id", r -> vocab(r).put("Ġ", 33), "model.vocab: id 33 is given to both \"Ġ\" and \"!\""),
                edit("ids with a gap", r -> vocab(r).put("Ġ", 5000), "ids are not contiguous: no token has id 32 but the"
                        + " largest id is 5000 (ids must be 0.." + (Reference.tokenizer().vocabSize() - 1) + ")"),
                edit("byte token missing", r -> {
                    vocab(r).remove("Ā");
                    vocab(r).put("Āx", 0); // the id stays taken: only the byte token is missing
                }, "model.vocab lacks the byte token \"Ā\" (byte 0x00); byte-level BPE needs all 256"),
                edit("token outside the alphabet", r -> {
                    vocab(r).remove("Ā");
                    vocab(r).put("a b", 0);
                }, "model.vocab token \"a b\" (id 0) has characters outside GPT-2's byte alphabet: not a byte-level BPE vocab"),
                edit("merges missing", r -> model(r).remove("merges"), "model.merges missing or not an array"),
                edit("merge without a space", r -> merges(r).set(0, "ab"),
                        "model.merges[0] is \"ab\", expected two tokens separated by one space"),
                edit("merge with two spaces", r -> merges(r).set(1, "a b c"),
                        "model.merges[1] is \"a b c\", expected two tokens separated by one space"),
                edit("merge neither string nor pair", r -> merges(r).set(2, 7),
                        "model.merges[2] is 7, expected \"left right\" or [\"left\", \"right\"]"),
                edit("merge of an unknown token", r -> merges(r).set(3, "Ġ zzzz"),
                        "model.merges[3] (\"Ġ zzzz\") refers to unknown token \"zzzz\""),
                edit("merge result not in the vocab", r -> merges(r).set(0, "Ā Ā"),
                        "model.merges[0] (\"Ā Ā\") makes \"ĀĀ\", which is not in the vocab"),
                edit("repeated merge", r -> merges(r).set(5, merges(r).get(4).asText()),
                        "model.merges[5] repeats model.merges[4] (" + BpeTokenizer.quote(merges(r0()).get(4).asText()) + ")"),
                edit("normalizer", r -> r.putObject("normalizer").put("type", "NFC"),
                        "normalizer of type \"NFC\" is not supported; expected null"),
                edit("pre-tokenizer missing", r -> r.remove("pre_tokenizer"),
                        "pre_tokenizer missing; expected {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}"),
                edit("pre-tokenizer type", r -> r.putObject("pre_tokenizer").put("type", "Whitespace"),
                        "pre_tokenizer of type \"Whitespace\" is not supported; expected {\"type\": \"ByteLevel\", "
                                + "\"add_prefix_space\": false, \"use_regex\": true}"),
                edit("prefix space", r -> ((ObjectNode) r.path("pre_tokenizer")).remove("add_prefix_space"),
                        "pre_tokenizer.add_prefix_space is true (or absent, which means true); expected {\"type\": "
                                + "\"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}"),
                edit("no regex", r -> ((ObjectNode) r.path("pre_tokenizer")).put("use_regex", false),
                        "pre_tokenizer.use_regex is false; expected {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                                + "\"use_regex\": true}"),
                edit("decoder", r -> r.putObject("decoder").put("type", "WordPiece"),
                        "decoder of type \"WordPiece\" is not supported; expected null or \"ByteLevel\""),
                edit("post-processor", r -> r.putObject("post_processor").put("type", "TemplateProcessing"),
                        "post_processor of type \"TemplateProcessing\" is not supported; expected null or \"ByteLevel\""),
                edit("dropout", r -> model(r).put("dropout", 0.1),
                        "model.dropout is 0.1; BPE dropout is not supported (encoding must be deterministic)"),
                edit("subword prefix", r -> model(r).put("continuing_subword_prefix", "##"),
                        "model.continuing_subword_prefix is \"##\"; byte-level BPE has none (null or \"\" expected)"),
                edit("byte fallback", r -> model(r).put("byte_fallback", true),
                        "model.byte_fallback is true; not supported (false expected)"),
                edit("no eos", r -> {
                    r.putArray("added_tokens");
                    vocab(r).remove(BpeTokenizer.EOS);
                }, "no token <|endoftext|> in added_tokens or model.vocab (flexmoe's end-of-document token)"),
                edit("added token not an object with id and content", r -> ((ArrayNode) r.path("added_tokens")).add(5),
                        "added_tokens[1]: expected {\"id\": <non-negative integer>, \"content\": <non-empty string>, ...}"),
                edit("added token with a vocab token's id", r -> ((ObjectNode) r.path("added_tokens").get(0)).put("id", 33),
                        "added_tokens[0] (\"<|endoftext|>\") has id 33, already taken by \"!\""));
    }

    private static Arguments edit(String name, Consumer<ObjectNode> change, String message) {
        return Arguments.of(name, change, message);
    }

    private static ObjectNode r0() {
        try {
            return (ObjectNode) JSON.readTree(Reference.tokenizer().toJson());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode model(ObjectNode root) {
        return (ObjectNode) root.path("model");
    }

    private static ObjectNode vocab(ObjectNode root) {
        return (ObjectNode) root.path("model").path("vocab");
    }

    private static ArrayNode merges(ObjectNode root) {
        return (ArrayNode) root.path("model").path("merges");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void aBadFileIsOneLineNamingTheFileAndTheField(String name, Consumer<ObjectNode> change, String message)
            throws IOException {
        ObjectNode root = r0();
        change.accept(root);
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), root);
        assertThatThrownBy(() -> BpeTokenizer.load(file))
                .isInstanceOf(TokenizerFormatException.class)
                .hasMessage(file + ": " + message);
    }

    @Test
    void notJsonEmptyMissingAndDuplicateKeysAreOneLineErrors() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\n  \"type\": BPE}}");
        assertThatThrownBy(() -> BpeTokenizer.load(file))
                .isInstanceOf(TokenizerFormatException.class)
                .hasMessageStartingWith(file + ": not JSON (line 2, column ")
                .hasMessageContaining("Unrecognized token 'BPE'")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Files.writeString(file, "");
        assertThatThrownBy(() -> BpeTokenizer.load(file)).hasMessage(file + ": not JSON: the file is empty");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"a\": 1}}}");
        assertThatThrownBy(() -> BpeTokenizer.load(file))
                .hasMessageStartingWith(file + ": not JSON (line 1, column ")
                .hasMessageEndingWith("Duplicate field 'a'");
        Files.writeString(file, "[" + tokenizer.toJson() + "]");
        assertThatThrownBy(() -> BpeTokenizer.load(file))
                .hasMessage(file + ": expected a JSON object at the top level, found an array");
        Path missing = dir.resolve("nope.json");
        assertThatThrownBy(() -> BpeTokenizer.load(missing)).hasMessage(missing + ": no such file");
    }
}
