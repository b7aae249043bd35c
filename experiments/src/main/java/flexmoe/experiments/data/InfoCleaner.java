package flexmoe.experiments.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One GNU Info node (the text between two {@code ^_} separators) to text. The node's {@code File: ..., Node: ...}
 * header line, menus ({@code * Menu:} and {@code * Entry::} lines), index entries, heading underlines and the cross
 * reference syntax ({@code *Note Name::}) go. Parts of an Info file that are not nodes (the preamble before the first
 * node, the tag table) have no node header and give an empty document, which the builder drops.
 */
final class InfoCleaner {

    private static final Pattern NODE_HEADER = Pattern.compile("^File: [^,]+,\\s+Node: .*$");
    private static final Pattern MENU_ENTRY = Pattern.compile("^\\* (?:Menu:.*|[^:]+::.*|.+: .+\\.\\s*(?:\\(line\\s+\\d+\\))?)$");
    private static final Pattern UNDERLINE = Pattern.compile("^[*=\\-.]{3,}\\s*$");
    private static final Pattern NOTE = Pattern.compile("\\*[Nn]ote\\s+([^:]+?)::");
    private static final Pattern NOTE_LABELLED = Pattern.compile("\\*[Nn]ote\\s+([^:]+?):\\s*[^.,]+[.,]");

    private InfoCleaner() {
    }

    static String clean(String node) {
        String[] lines = node.split("\n", -1);
        int header = -1;
        for (int k = 0; k < lines.length; k++) {
            if (!lines[k].isBlank()) {
                header = NODE_HEADER.matcher(lines[k]).matches() ? k : -1;
                break;
            }
        }
        if (header < 0) {
            return "";
        }
        List<String> kept = new ArrayList<>();
        for (int k = header + 1; k < lines.length; k++) {
            String line = lines[k];
            if (MENU_ENTRY.matcher(line).matches() || UNDERLINE.matcher(line).matches()) {
                continue;
            }
            String text = NOTE.matcher(line).replaceAll("$1");
            kept.add(NOTE_LABELLED.matcher(text).replaceAll("$1"));
        }
        return String.join("\n", kept);
    }
}
