package flexmoe.moe.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's original files: {@code encoder.json} (token string to id, the byte alphabet of {@link ByteLevel}, with
 * {@code <|endoftext|>}) and {@code vocab.bpe} (a {@code #version} line, then one merge {@code "left right"} per
 * line, by rank). GPT-2 used the same pre-tokenizer and merge rule as {@link BpeTokenizer}.
 */
final class Gpt2Files {

    private Gpt2Files() {
    }

    static BpeTokenizer read(Path encoderJson, Path vocabBpe) {
        TokenizerJson.Errors err = new TokenizerJson.Errors(encoderJson);
        JsonNode root = TokenizerJson.parse(encoderJson);
        if (!root.isObject()) {
            throw err.at("expected a JSON object of token -> id, found " + TokenizerJson.kind(root));
        }
        Map<String, Integer> vocab = new HashMap<>();
        Map<Integer, String> byId = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw err.at("token " + BpeTokenizer.quote(e.getKey()) + " has id " + id + ", expected a non-negative integer");
            }
            String previous = byId.put(id.intValue(), e.getKey());
            if (previous != null) {
                throw err.at("id " + id.intValue() + " is given to both " + BpeTokenizer.quote(previous) + " and "
                        + BpeTokenizer.quote(e.getKey()));
            }
            vocab.put(e.getKey(), id.intValue());
        }
        int n = byId.size();
        String[] tokens = new String[n];
        boolean[] added = new boolean[n];
        for (int id = 0; id < n; id++) {
            tokens[id] = byId.get(id);
            if (tokens[id] == null) {
                throw err.at("ids are not contiguous: no token has id " + id + " (ids must be 0.." + (n - 1) + ")");
            }
        }
        Integer eos = vocab.get(BpeTokenizer.EOS);
        if (eos == null) {
            throw err.at("no token " + BpeTokenizer.EOS + " (GPT-2's end-of-text token, flexmoe's end-of-document token)");
        }
        added[eos] = true;
        for (int id = 0; id < n; id++) {
            if (!added[id] && ByteLevel.decode(tokens[id]) == null) {
                throw err.at("token " + BpeTokenizer.quote(tokens[id]) + " (id " + id
                        + ") has characters outside GPT-2's byte alphabet");
            }
        }
        TokenizerJson.checkByteTokens(vocab, added, "the vocabulary", err);

        List<int[]> merges = readMerges(vocabBpe, vocab, added);
        boolean[] special = added.clone();
        try {
            return new BpeTokenizer(tokens, added, special, merges.toArray(new int[0][]));
        } catch (IllegalArgumentException e) {
            throw err.at(e.getMessage());
        }
    }

    private static List<int[]> readMerges(Path vocabBpe, Map<String, Integer> vocab, boolean[] added) {
        TokenizerJson.Errors err = new TokenizerJson.Errors(vocabBpe);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(vocabBpe)))
                    .toString();
        } catch (NoSuchFileException e) {
            throw err.at("no such file");
        } catch (CharacterCodingException e) {
            throw err.at("not valid UTF-8");
        } catch (IOException e) {
            throw err.at("cannot read: " + e.getMessage());
        }
        List<int[]> merges = new ArrayList<>();
        Map<Long, Integer> seen = new HashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) {
                continue;
            }
            String where = "line " + (i + 1);
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw err.at(where + " is " + BpeTokenizer.quote(line) + ", expected two tokens separated by one space");
            }
            int[] merge = TokenizerJson.resolveMerge(line.substring(0, space), line.substring(space + 1), where,
                    vocab, added, err);
            Integer earlier = seen.putIfAbsent(LongIntMap.pair(merge[0], merge[1]), i + 1);
            if (earlier != null) {
                throw err.at(where + " repeats line " + earlier + " (" + BpeTokenizer.quote(line) + ")");
            }
            merges.add(merge);
        }
        return merges;
    }
}
