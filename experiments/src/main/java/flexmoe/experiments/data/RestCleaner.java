package flexmoe.experiments.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * reStructuredText as Sphinx writes it (the Python documentation's {@code _sources}) to text. Roles become their text
 * ({@code :keyword:`if`} gives {@code if}, {@code :func:`~os.path.join`} gives {@code os.path.join},
 * {@code :ref:`the tutorial <tut-intro>`} gives {@code the tutorial}), links keep their text; link targets ({@code .. _name:}), comments
 * and bookkeeping directives ({@code index}, {@code highlight}, {@code sectionauthor}, ...) go with their indented
 * bodies; other directive lines ({@code .. note::}) go and their bodies stay; heading under/overlines go. Literal blocks and {@code >>>} examples stay: they are what the tutorials teach.
 */
final class RestCleaner {

    private static final Pattern ROLE = Pattern.compile(":[A-Za-z][\\w:+-]*:`([^`]+)`");
    /** An inline hyperlink {@code `text <url>`_}: the text stays. */
    private static final Pattern LINK = Pattern.compile("`([^`<]+?)\\s*<[^`>]+>`__?");
    /** File-wide Sphinx fields at the top of a page ({@code :tocdepth: 2}). */
    private static final Pattern FILE_FIELD = Pattern.compile("^:(?:tocdepth|orphan|nosearch|nocomments)(?::.*)?$");
    private static final Pattern TITLE_TARGET = Pattern.compile("^(.*?)\\s*<[^<>]+>$");
    private static final Pattern DROPPED_DIRECTIVE = Pattern.compile(
            "^\\.\\.\\s+(?:_[^:]+:.*|index::.*|highlight::.*|sectionauthor::.*|moduleauthor::.*|module::.*|currentmodule::.*"
                    + "|toctree::.*|testsetup::.*|testcleanup::.*|only::.*|raw::.*|include::.*|\\|[^|]+\\|.*|[^:]*)$");
    /** Other directives ({@code note}, {@code code-block}, {@code versionadded}): the line goes, the body stays. */
    private static final Pattern DIRECTIVE_LINE = Pattern.compile("^\\s*\\.\\.\\s+[\\w-]+::.*$");
    private static final Pattern BLANK_LINES = Pattern.compile("\n{3,}");
    private static final Pattern ADORNMENT = Pattern.compile("^([=*\\-~^\"'`#+.:_])\\1{2,}\\s*$");

    private RestCleaner() {
    }

    static String clean(String rst) {
        String[] lines = rst.split("\n", -1);
        List<String> kept = new ArrayList<>();
        for (int k = 0; k < lines.length; k++) {
            String line = lines[k];
            if (DROPPED_DIRECTIVE.matcher(line).matches()) {
                // The directive's body is the indented block after it.
                while (k + 1 < lines.length && (lines[k + 1].isBlank() ? nextIndented(lines, k + 1) : isIndented(lines[k + 1]))) {
                    k++;
                }
                continue;
            }
            if (ADORNMENT.matcher(line).matches() || DIRECTIVE_LINE.matcher(line).matches()
                    || FILE_FIELD.matcher(line).matches()) {
                continue;
            }
            kept.add(LINK.matcher(roles(line)).replaceAll("$1"));
        }
        // Removed directives leave runs of blank lines behind.
        return BLANK_LINES.matcher(String.join("\n", kept)).replaceAll("\n\n");
    }

    private static boolean nextIndented(String[] lines, int from) {
        for (int k = from; k < lines.length; k++) {
            if (!lines[k].isBlank()) {
                return isIndented(lines[k]);
            }
        }
        return false;
    }

    private static boolean isIndented(String line) {
        return line.startsWith(" ") || line.startsWith("\t");
    }

    private static String roles(String line) {
        Matcher m = ROLE.matcher(line);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String text = m.group(1);
            Matcher titled = TITLE_TARGET.matcher(text);
            if (titled.matches() && !titled.group(1).isEmpty()) {
                text = titled.group(1);
            }
            if (text.startsWith("~") || text.startsWith("!")) {
                text = text.substring(1);
            }
            m.appendReplacement(b, Matcher.quoteReplacement(text));
        }
        m.appendTail(b);
        return b.toString();
    }
}
