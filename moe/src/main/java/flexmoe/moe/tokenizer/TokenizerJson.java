package flexmoe.moe.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Hugging Face {@code tokenizer.json} for byte-level BPE, read and written.
 *
 * <p>Written: {@code model} of type BPE with {@code vocab} (token string to id) and {@code merges} (strings
 * {@code "left right"}, which every version of {@code tokenizers} reads), a ByteLevel pre-tokenizer (GPT-2's regex,
 * no prefix space), ByteLevel decoder and post-processor, and the added tokens (EOS). The layout is fixed (field
 * order, ids ascending, two-space indent, {@code \n}), so equal tokenizers give equal bytes: the fingerprint.
 *
 * <p>Read: the same, with merges also as arrays {@code ["left", "right"]} (newer {@code tokenizers}). Anything that
 * would make Hugging Face encode differently from {@link BpeTokenizer} is refused with a one-line message: another
 * model type, a normalizer, a pre-tokenizer other than ByteLevel with GPT-2's regex and no prefix space, dropout,
 * subword prefixes or suffixes, byte fallback, merges of unknown tokens.
 */
final class TokenizerJson {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final DefaultPrettyPrinter LAYOUT = new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"));

    private TokenizerJson() {
    }

    // ---- writing ----

    static byte[] write(BpeTokenizer t) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * t.vocabSize());
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.setPrettyPrinter(new DefaultPrettyPrinter(LAYOUT));
            g.writeStartObject();
            g.writeStringField("version", "1.0");
            g.writeNullField("truncation");
            g.writeNullField("padding");
            g.writeArrayFieldStart("added_tokens");
            for (int id = 0; id < t.vocabSize(); id++) {
                if (t.isAdded(id)) {
                    g.writeStartObject();
                    g.writeNumberField("id", id);
                    g.writeStringField("content", t.token(id));
                    g.writeBooleanField("single_word", false);
                    g.writeBooleanField("lstrip", false);
                    g.writeBooleanField("rstrip", false);
                    g.writeBooleanField("normalized", false);
                    g.writeBooleanField("special", t.isSpecial(id));
                    g.writeEndObject();
                }
            }
            g.writeEndArray();
            g.writeNullField("normalizer");
            writeByteLevel(g, "pre_tokenizer", true);
            writeByteLevel(g, "post_processor", false);
            writeByteLevel(g, "decoder", true);
            g.writeObjectFieldStart("model");
            g.writeStringField("type", "BPE");
            g.writeNullField("dropout");
            g.writeNullField("unk_token");
            g.writeNullField("continuing_subword_prefix");
            g.writeNullField("end_of_word_suffix");
            g.writeBooleanField("fuse_unk", false);
            g.writeBooleanField("byte_fallback", false);
            g.writeBooleanField("ignore_merges", false);
            g.writeObjectFieldStart("vocab");
            for (int id = 0; id < t.vocabSize(); id++) {
                // An added token whose content is also a BPE token's string lives only in added_tokens.
                if (!t.isAdded(id) || t.id(t.token(id)) == id) {
                    g.writeNumberField(t.token(id), id);
                }
            }
            g.writeEndObject();
            g.writeArrayFieldStart("merges");
            for (int r = 0; r < t.mergeCount(); r++) {
                int[] m = t.merge(r);
                g.writeString(t.token(m[0]) + " " + t.token(m[1]));
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndObject();
            g.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void writeByteLevel(JsonGenerator g, String field, boolean trimOffsets) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeStringField("type", "ByteLevel");
        g.writeBooleanField("add_prefix_space", false);
        g.writeBooleanField("trim_offsets", trimOffsets);
        g.writeBooleanField("use_regex", true);
        g.writeEndObject();
    }

    // ---- reading ----

    static BpeTokenizer read(Path file) {
        JsonNode root = parse(file);
        Errors err = new Errors(file);
        if (!root.isObject()) {
            throw err.at("expected a JSON object at the top level, found " + kind(root));
        }
        JsonNode model = root.get("model");
        if (model == null || model.isNull()) {
            throw err.at("missing \"model\" (a tokenizer.json has the BPE vocab and merges there)");
        }
        if (!model.isObject()) {
            throw err.at("\"model\" is " + kind(model) + ", expected an object");
        }
        JsonNode type = model.get("type");
        if (type == null || !type.isTextual()) {
            throw err.at("model.type missing, expected \"BPE\"");
        }
        if (!type.asText().equals("BPE")) {
            throw err.at("model.type is \"" + type.asText() + "\"; only \"BPE\" (byte-level) is supported");
        }
        checkModelOptions(model, err);
        checkNullOr(root, "normalizer", null, err);
        checkByteLevel(root.get("pre_tokenizer"), err);
        checkNullOr(root, "decoder", "ByteLevel", err);
        checkNullOr(root, "post_processor", "ByteLevel", err);

        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw err.at("model.vocab missing or not an object of token -> id");
        }
        Map<Integer, String> byId = new HashMap<>();
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            JsonNode id = e.getValue();
            String token = e.getKey();
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw err.at("model.vocab[" + BpeTokenizer.quote(token) + "] is " + id + ", expected a non-negative integer id");
            }
            String previous = byId.put(id.intValue(), token);
            if (previous != null) {
                throw err.at("model.vocab: id " + id.intValue() + " is given to both " + BpeTokenizer.quote(previous)
                        + " and " + BpeTokenizer.quote(token));
            }
            vocab.put(token, id.intValue());
        }
        Map<Integer, Boolean> addedSpecial = readAddedTokens(root, byId, err);

        int n = byId.size();
        String[] tokens = new String[n];
        for (int id = 0; id < n; id++) {
            tokens[id] = byId.get(id);
            if (tokens[id] == null) {
                int max = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
                throw err.at("ids are not contiguous: no token has id " + id + " but the largest id is " + max
                        + " (ids must be 0.." + (n - 1) + ")");
            }
        }
        boolean[] added = new boolean[n];
        boolean[] special = new boolean[n];
        for (Map.Entry<Integer, Boolean> e : addedSpecial.entrySet()) {
            added[e.getKey()] = true;
            special[e.getKey()] = e.getValue();
        }
        // GPT-2-style files without added_tokens still have the EOS in the vocab: it is the end-of-document token.
        Integer eos = vocab.get(BpeTokenizer.EOS);
        if (eos != null && !hasAdded(tokens, added, BpeTokenizer.EOS)) {
            added[eos] = true;
            special[eos] = true;
        }
        if (!hasAdded(tokens, added, BpeTokenizer.EOS)) {
            throw err.at("no token " + BpeTokenizer.EOS + " in added_tokens or model.vocab (flexmoe's end-of-document token)");
        }
        for (int id = 0; id < n; id++) {
            if (!added[id] && ByteLevel.decode(tokens[id]) == null) {
                throw err.at("model.vocab token " + BpeTokenizer.quote(tokens[id]) + " (id " + id
                        + ") has characters outside GPT-2's byte alphabet: not a byte-level BPE vocab");
            }
        }
        checkByteTokens(vocab, added, "model.vocab", err);
        int[][] merges = readMerges(model.get("merges"), vocab, added, err);
        try {
            return new BpeTokenizer(tokens, added, special, merges);
        } catch (IllegalArgumentException e) {
            throw err.at(e.getMessage());
        }
    }

    private static boolean hasAdded(String[] tokens, boolean[] added, String content) {
        for (int id = 0; id < tokens.length; id++) {
            if (added[id] && tokens[id].equals(content)) {
                return true;
            }
        }
        return false;
    }

    /** Adds the added tokens to byId (where not already in the vocab); returns id -> special. */
    private static Map<Integer, Boolean> readAddedTokens(JsonNode root, Map<Integer, String> byId, Errors err) {
        Map<Integer, Boolean> result = new HashMap<>();
        JsonNode list = root.get("added_tokens");
        if (list == null || list.isNull()) {
            return result;
        }
        if (!list.isArray()) {
            throw err.at("added_tokens is " + kind(list) + ", expected an array");
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode t = list.get(i);
            String where = "added_tokens[" + i + "]";
            JsonNode id = t.get("id");
            JsonNode content = t.get("content");
            if (!t.isObject() || id == null || !id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0
                    || content == null || !content.isTextual() || content.asText().isEmpty()) {
                throw err.at(where + ": expected {\"id\": <non-negative integer>, \"content\": <non-empty string>, ...}");
            }
            String existing = byId.get(id.intValue());
            if (existing == null) {
                byId.put(id.intValue(), content.asText());
            } else if (!existing.equals(content.asText()) || result.containsKey(id.intValue())) {
                throw err.at(where + " (" + BpeTokenizer.quote(content.asText()) + ") has id " + id.intValue()
                        + ", already taken by " + BpeTokenizer.quote(existing));
            }
            JsonNode special = t.get("special");
            result.put(id.intValue(), special == null || special.asBoolean(true));
        }
        return result;
    }

    private static int[][] readMerges(JsonNode list, Map<String, Integer> vocab, boolean[] added, Errors err) {
        if (list == null || !list.isArray()) {
            throw err.at("model.merges missing or not an array");
        }
        int[][] merges = new int[list.size()][];
        Map<Long, Integer> seen = new HashMap<>();
        for (int r = 0; r < list.size(); r++) {
            JsonNode m = list.get(r);
            String where = "model.merges[" + r + "]";
            String left;
            String right;
            if (m.isTextual()) {
                String s = m.asText();
                int space = s.indexOf(' ');
                if (space <= 0 || space == s.length() - 1 || s.indexOf(' ', space + 1) >= 0) {
                    throw err.at(where + " is " + BpeTokenizer.quote(s) + ", expected two tokens separated by one space");
                }
                left = s.substring(0, space);
                right = s.substring(space + 1);
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw err.at(where + " is " + m + ", expected \"left right\" or [\"left\", \"right\"]");
            }
            merges[r] = resolveMerge(left, right, where, vocab, added, err);
            Integer earlier = seen.putIfAbsent(LongIntMap.pair(merges[r][0], merges[r][1]), r);
            if (earlier != null) {
                throw err.at(where + " repeats model.merges[" + earlier + "] (" + BpeTokenizer.quote(left + " " + right) + ")");
            }
        }
        return merges;
    }

    /** The ids of a merge's two tokens, checked: both in the vocab, their concatenation too, none an added token. */
    static int[] resolveMerge(String left, String right, String where, Map<String, Integer> vocab, boolean[] added,
                              Errors err) {
        String shown = "(" + BpeTokenizer.quote(left + " " + right) + ")";
        for (String token : new String[] {left, right}) {
            Integer id = vocab.get(token);
            if (id == null || added[id]) {
                throw err.at(where + " " + shown + " refers to unknown token " + BpeTokenizer.quote(token));
            }
        }
        Integer result = vocab.get(left + right);
        if (result == null || added[result]) {
            throw err.at(where + " " + shown + " makes " + BpeTokenizer.quote(left + right) + ", which is not in the vocab");
        }
        return new int[] {vocab.get(left), vocab.get(right)};
    }

    static void checkByteTokens(Map<String, Integer> vocab, boolean[] added, String where, Errors err) {
        for (int b = 0; b < 256; b++) {
            String token = String.valueOf(ByteLevel.charOf(b));
            Integer id = vocab.get(token);
            if (id == null || added[id]) {
                throw err.at(where + " lacks the byte token " + BpeTokenizer.quote(token)
                        + String.format(" (byte 0x%02X); byte-level BPE needs all 256", b));
            }
        }
    }

    private static void checkModelOptions(JsonNode model, Errors err) {
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0) {
            throw err.at("model.dropout is " + dropout + "; BPE dropout is not supported (encoding must be deterministic)");
        }
        for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode v = model.get(field);
            if (v != null && !v.isNull() && !v.asText().isEmpty()) {
                throw err.at("model." + field + " is " + v + "; byte-level BPE has none (null or \"\" expected)");
            }
        }
        for (String field : new String[] {"byte_fallback", "ignore_merges"}) {
            JsonNode v = model.get(field);
            if (v != null && v.asBoolean(false)) {
                throw err.at("model." + field + " is true; not supported (false expected)");
            }
        }
    }

    private static void checkNullOr(JsonNode root, String field, String allowedType, Errors err) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return;
        }
        String type = v.path("type").asText("");
        if (allowedType == null || !allowedType.equals(type)) {
            throw err.at(field + " of type \"" + type + "\" is not supported; expected "
                    + (allowedType == null ? "null" : "null or \"" + allowedType + "\""));
        }
    }

    private static void checkByteLevel(JsonNode pre, Errors err) {
        String expected = "; expected {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";
        if (pre == null || pre.isNull()) {
            throw err.at("pre_tokenizer missing" + expected);
        }
        String type = pre.path("type").asText("");
        if (!type.equals("ByteLevel")) {
            throw err.at("pre_tokenizer of type \"" + type + "\" is not supported" + expected);
        }
        // Hugging Face's defaults when a field is absent: add_prefix_space true, use_regex true.
        if (pre.path("add_prefix_space").asBoolean(true)) {
            throw err.at("pre_tokenizer.add_prefix_space is true (or absent, which means true)" + expected);
        }
        if (!pre.path("use_regex").asBoolean(true)) {
            throw err.at("pre_tokenizer.use_regex is false" + expected);
        }
    }

    static JsonNode parse(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerFormatException(file + ": no such file");
        } catch (IOException e) {
            throw new TokenizerFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (bytes.length == 0) {
            throw new TokenizerFormatException(file + ": not JSON: the file is empty");
        }
        try {
            return MAPPER.readTree(bytes);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw new TokenizerFormatException(file + ": not JSON" + where + ": " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new TokenizerFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase();
        };
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Builds the one-line errors, each starting with the file's name. */
    record Errors(Path file) {
        TokenizerFormatException at(String problem) {
            return new TokenizerFormatException(file + ": " + problem);
        }
    }
}
