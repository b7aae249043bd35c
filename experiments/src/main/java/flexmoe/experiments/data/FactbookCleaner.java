package flexmoe.experiments.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A CIA World Factbook country file ({@code factbook.json}: nested objects whose leaves are {@code {"text": "..."}})
 * to prose: every {@code "text"} value longer than {@value #MIN_CHARS} characters, in file order, one paragraph each;
 * the Factbook's own paragraph mark inside a field, {@code ++}, becomes a paragraph break. Short fields are numbers, names and coordinates ("51 00 N, 9 00 E"): tables, not text.
 */
final class FactbookCleaner {

    static final int MIN_CHARS = 200;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.regex.Pattern PARAGRAPH_MARK = java.util.regex.Pattern.compile("\\s*\\+\\+\\s*");

    private FactbookCleaner() {
    }

    static String clean(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        List<String> paragraphs = new ArrayList<>();
        collect(root, paragraphs);
        return String.join("\n\n", paragraphs);
    }

    private static void collect(JsonNode node, List<String> paragraphs) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                JsonNode value = field.getValue();
                if (field.getKey().equals("text") && value.isTextual()) {
                    String text = value.asText().strip();
                    if (text.length() > MIN_CHARS) {
                        paragraphs.add(PARAGRAPH_MARK.matcher(text).replaceAll("\n\n").strip());
                    }
                } else {
                    collect(value, paragraphs);
                }
            }
        } else if (node.isArray()) {
            for (JsonNode element : node) {
                collect(element, paragraphs);
            }
        }
    }
}
