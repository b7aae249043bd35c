package flexmoe.experiments.data;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** Bytes to text, and the normalisation every cleaned document gets. */
final class TextNormaliser {

    private static final Charset WINDOWS_1252 = Charset.forName("windows-1252");
    private static final Pattern TRAILING_SPACE = Pattern.compile("[ \\t]+$", Pattern.MULTILINE);
    private static final Pattern MANY_BLANK_LINES = Pattern.compile("\n{4,}");

    private TextNormaliser() {
    }

    /**
     * The text of a file: UTF-8 when the bytes are valid UTF-8, else windows-1252. Old sources (2002 mails, the PARI
     * manual) are Latin-1; windows-1252 decodes those and also the "smart quotes" mail clients put in 0x80-0x9F.
     */
    static String decode(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            text = new String(bytes, WINDOWS_1252);
        }
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /**
     * Unix newlines, no control characters but tab and newline, no trailing spaces, at most two blank lines in a row
     * (PEP 8 code keeps its two), no blank lines at either end. Indentation is kept: it is meaning in code and verse.
     */
    static String normalise(String text) {
        String s = text.replace("\r\n", "\n").replace('\r', '\n');
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\t' || !Character.isISOControl(c)) {
                b.append(c);
            }
        }
        s = TRAILING_SPACE.matcher(b).replaceAll("");
        s = MANY_BLANK_LINES.matcher(s).replaceAll("\n\n\n");
        int start = 0;
        while (start < s.length() && s.charAt(start) == '\n') {
            start++;
        }
        return s.substring(start).stripTrailing();
    }
}
