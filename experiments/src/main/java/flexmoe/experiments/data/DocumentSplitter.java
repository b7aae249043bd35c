package flexmoe.experiments.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Files to documents ({@link FlexMixRecipe.Splitting}), and documents over the size cap to pieces under it. */
final class DocumentSplitter {

    /** Where an oversized document is cut, best first: paragraphs, lines, sentences, words. */
    private static final String[] BREAKS = {"\n\n", "\n", ". ", " "};

    private DocumentSplitter() {
    }

    /** The raw documents of one file, before cleaning. */
    static List<String> split(String text, FlexMixRecipe.Splitting splitting) {
        if (splitting.kind() == FlexMixRecipe.Splitting.Kind.FILE) {
            return List.of(text);
        }
        Pattern pattern = Pattern.compile(splitting.pattern());
        boolean headings = splitting.kind() == FlexMixRecipe.Splitting.Kind.HEADINGS;
        List<String> documents = new ArrayList<>();
        StringBuilder current = headings ? null : new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (pattern.matcher(line).matches()) {
                if (current != null) {
                    documents.add(current.toString());
                }
                current = new StringBuilder();
                if (!headings) {
                    continue;
                }
            }
            if (current != null) {
                current.append(line).append('\n');
            }
        }
        if (current != null) {
            documents.add(current.toString());
        }
        if (splitting.skip() != null) {
            Pattern skip = Pattern.compile(splitting.skip());
            documents.removeIf(d -> skip.matcher(d.lines().findFirst().orElse("")).matches());
        }
        return documents;
    }

    /**
     * {@code document} cut into pieces of at most {@code maxBytes} UTF-8 bytes, at the best break available (see
     * {@link #BREAKS}); a single word longer than that is cut between characters. Pieces are stripped of the
     * whitespace at the cut.
     */
    static List<String> chunk(String document, int maxBytes) {
        if (utf8Length(document) <= maxBytes) {
            return List.of(document);
        }
        List<String> pieces = new ArrayList<>();
        chunk(document, maxBytes, 0, pieces);
        pieces.replaceAll(String::strip);
        pieces.removeIf(String::isEmpty);
        return pieces;
    }

    private static void chunk(String text, int maxBytes, int level, List<String> pieces) {
        if (utf8Length(text) <= maxBytes) {
            pieces.add(text);
            return;
        }
        if (level == BREAKS.length) {
            hardCut(text, maxBytes, pieces);
            return;
        }
        String br = BREAKS[level];
        StringBuilder current = new StringBuilder();
        long currentBytes = 0;
        int from = 0;
        while (from < text.length()) {
            int at = text.indexOf(br, from);
            int to = at < 0 ? text.length() : at + br.length();
            String part = text.substring(from, to);
            from = to;
            long bytes = utf8Length(part);
            if (bytes > maxBytes) {
                flush(current, pieces);
                currentBytes = 0;
                chunk(part, maxBytes, level + 1, pieces);
                continue;
            }
            if (currentBytes + bytes > maxBytes) {
                flush(current, pieces);
                currentBytes = 0;
            }
            current.append(part);
            currentBytes += bytes;
        }
        flush(current, pieces);
    }

    private static void flush(StringBuilder current, List<String> pieces) {
        if (!current.isEmpty()) {
            pieces.add(current.toString());
            current.setLength(0);
        }
    }

    private static void hardCut(String text, int maxBytes, List<String> pieces) {
        int start = 0;
        long bytes = 0;
        for (int k = 0; k < text.length(); ) {
            int cp = text.codePointAt(k);
            int len = utf8Length(cp);
            if (bytes + len > maxBytes) {
                pieces.add(text.substring(start, k));
                start = k;
                bytes = 0;
            }
            bytes += len;
            k += Character.charCount(cp);
        }
        pieces.add(text.substring(start));
    }

    /** UTF-8 length of {@code text} without encoding it. */
    static long utf8Length(CharSequence text) {
        long n = 0;
        for (int k = 0; k < text.length(); k++) {
            char c = text.charAt(k);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && k + 1 < text.length() && Character.isLowSurrogate(text.charAt(k + 1))) {
                n += 4;
                k++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static int utf8Length(int codePoint) {
        return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    }
}
