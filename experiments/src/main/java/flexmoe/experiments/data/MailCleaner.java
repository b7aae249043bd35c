package flexmoe.experiments.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A mailing-list message (RFC 822) to a forum post, the FlexMix-mini stand-in for Reddit threads.
 *
 * <ul>
 *   <li>Headers (everything before the first blank line) are dropped, except the subject, which becomes the post's
 *       title without {@code Re:} and {@code [list]} prefixes.</li>
 *   <li>Messages that are not plain text, or whose body is base64 or quoted-printable, are dropped whole (few of them;
 *       decoding MIME is not worth a dependency here).</li>
 *   <li>The signature (from a {@code -- } line) and the list footer (from a line of underscores) are cut.</li>
 *   <li>Quoted lines ({@code >}) and the "X wrote:" line before them are dropped: the quoted text is someone else's
 *       message, usually already in the corpus, and duplicates would inflate the domain.</li>
 *   <li>E-mail addresses and URLs are removed: they identify people and are noise to a small model.</li>
 * </ul>
 */
final class MailCleaner {

    private static final Pattern ADDRESS = Pattern.compile("<?(mailto:)?[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+>?");
    private static final Pattern URL = Pattern.compile("<?\\b(?:(?:https?|ftp)://|www\\.)[^\\s<>\"]+>?", Pattern.CASE_INSENSITIVE);
    private static final Pattern SUBJECT_PREFIX = Pattern.compile("^(?:\\s*(?:\\[[^\\]]*\\]|(?:re|fwd?|aw)\\s*:))+\\s*",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern ATTRIBUTION = Pattern.compile(".*\\b(wrote|writes|said)\\s*:\\s*$", Pattern.CASE_INSENSITIVE);
    private static final Pattern FOOTER = Pattern.compile("^_{10,}\\s*$");
    private static final Pattern EMPTY_BRACKETS = Pattern.compile("(<\\s*>|\\(\\s*\\)|\\[\\s*\\])");
    private static final Pattern SPACES = Pattern.compile("[ \\t]{2,}");

    private MailCleaner() {
    }

    static String clean(String message) {
        int split = message.indexOf("\n\n");
        if (split < 0) {
            return "";
        }
        List<String> headers = unfold(message.substring(0, split));
        String subject = "";
        for (String h : headers) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).strip();
            String lower = value.toLowerCase(Locale.ROOT);
            switch (name) {
                case "content-type" -> {
                    if (!lower.startsWith("text/plain")) {
                        return "";
                    }
                }
                case "content-transfer-encoding" -> {
                    if (lower.startsWith("base64") || lower.startsWith("quoted-printable")) {
                        return "";
                    }
                }
                case "subject" -> subject = SUBJECT_PREFIX.matcher(value).replaceFirst("");
                default -> { }
            }
        }
        String body = body(message.substring(split + 2).split("\n", -1));
        if (body.isBlank()) {
            return "";
        }
        return subject.isBlank() ? body : scrub(subject).strip() + "\n\n" + body.strip();
    }

    private static String body(String[] lines) {
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.equals("-- ") || line.equals("--") || FOOTER.matcher(line).matches()) {
                break;
            }
            if (line.stripLeading().startsWith(">")) {
                continue;
            }
            if (ATTRIBUTION.matcher(line).matches() && nextNonBlankIsQuote(lines, i + 1)) {
                continue;
            }
            kept.add(scrub(line));
        }
        return String.join("\n", kept);
    }

    private static boolean nextNonBlankIsQuote(String[] lines, int from) {
        for (int i = from; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                return lines[i].stripLeading().startsWith(">");
            }
        }
        return false;
    }

    private static String scrub(String line) {
        String s = URL.matcher(line).replaceAll("");
        s = ADDRESS.matcher(s).replaceAll("");
        s = EMPTY_BRACKETS.matcher(s).replaceAll("");
        return SPACES.matcher(s).replaceAll(" ");
    }

    /** Header lines with continuation lines (starting with space or tab) joined to the line they continue. */
    private static List<String> unfold(String head) {
        List<String> headers = new ArrayList<>();
        for (String line : head.split("\n")) {
            if (!headers.isEmpty() && !line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                headers.set(headers.size() - 1, headers.getLast() + " " + line.strip());
            } else {
                headers.add(line);
            }
        }
        return headers;
    }
}
