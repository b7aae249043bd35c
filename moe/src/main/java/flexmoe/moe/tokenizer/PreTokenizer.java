package flexmoe.moe.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's pre-tokenizer: splits text into pieces (words with their leading space, number runs, punctuation runs,
 * whitespace) that BPE then encodes one at a time. It is the regex {@link #GPT2_PATTERN} written out by hand,
 * because the regex engine dominated encoding time; the tests check that both split every string the same way.
 *
 * <p>Character classes are Unicode's, as Oniguruma uses them in Hugging Face {@code tokenizers}: {@code \p{L}}
 * letters, {@code \p{N}} numbers, {@code \s} the White_Space property (so U+00A0 and U+3000 are whitespace, U+001C
 * is not). The contractions are case-sensitive, as in GPT-2. An unpaired surrogate is neither letter, number nor
 * whitespace (as in {@link java.util.regex}).
 */
public final class PreTokenizer {

    /** GPT-2's pre-tokenization regex, the specification of {@link #pieceEnd}. */
    public static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** {@link #GPT2_REGEX} compiled with Unicode classes; the reference the hand-written splitter is tested against. */
    public static final Pattern GPT2_PATTERN = Pattern.compile(GPT2_REGEX, Pattern.UNICODE_CHARACTER_CLASS);

    static final byte OTHER = 0;
    static final byte LETTER = 1;
    static final byte NUMBER = 2;
    static final byte SPACE = 3;

    /** The class of every BMP character; surrogates are OTHER here and resolved by {@link #classAt}. */
    private static final byte[] BMP_CLASS = new byte[0x10000];

    static {
        for (int c = 0; c < 0x10000; c++) {
            BMP_CLASS[c] = classOf(c);
        }
    }

    private PreTokenizer() {
    }

    static byte classOf(int cp) {
        if (isWhiteSpace(cp)) {
            return SPACE;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }

    /** Unicode's White_Space property (PropList.txt); {@link Character#isWhitespace} differs from it. */
    private static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** The class of the code point starting at {@code i} ({@code i < end}). */
    private static byte classAt(String s, int i, int end) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
            return classOf(Character.toCodePoint(c, s.charAt(i + 1)));
        }
        return BMP_CLASS[c];
    }

    /** The end of the run of code points of class {@code cls} that starts at {@code i}. */
    private static int runEnd(String s, int i, int end, byte cls) {
        while (i < end) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
                if (classOf(Character.toCodePoint(c, s.charAt(i + 1))) != cls) {
                    return i;
                }
                i += 2;
            } else {
                if (BMP_CLASS[c] != cls) {
                    return i;
                }
                i++;
            }
        }
        return i;
    }

    /**
     * The end (exclusive) of the piece of {@code s[.., end)} that starts at {@code start} ({@code start < end}); the
     * regex's leftmost-first alternation, case by case. Pieces tile the text: the next one starts at the result.
     */
    public static int pieceEnd(String s, int start, int end) {
        char c = s.charAt(start);
        // 's 't 're 've 'm 'll 'd
        if (c == '\'' && start + 1 < end) {
            char d = s.charAt(start + 1);
            if (d == 's' || d == 't' || d == 'm' || d == 'd') {
                return start + 2;
            }
            if (start + 2 < end) {
                char e = s.charAt(start + 2);
                if (((d == 'r' || d == 'v') && e == 'e') || (d == 'l' && e == 'l')) {
                    return start + 3;
                }
            }
        }
        // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then a run of one class.
        if (c == ' ' && start + 1 < end) {
            byte next = classAt(s, start + 1, end);
            if (next != SPACE) {
                return runEnd(s, start + 1, end, next);
            }
        }
        byte cls = classAt(s, start, end);
        if (cls != SPACE) {
            return runEnd(s, start, end, cls);
        }
        // '\s+(?!\S)' backtracks to leave the last whitespace character for the word after it; '\s+' takes a
        // single whitespace character before a non-space. White_Space characters are all in the BMP.
        int runEnd = runEnd(s, start, end, SPACE);
        if (runEnd == end || runEnd - start == 1) {
            return runEnd;
        }
        return runEnd - 1;
    }

    /** The pieces of {@code text}, for tests and tools (encoding iterates {@link #pieceEnd} without allocating). */
    public static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        int n = text.length();
        for (int i = 0; i < n; ) {
            int e = pieceEnd(text, i, n);
            pieces.add(text.substring(i, e));
            i = e;
        }
        return pieces;
    }

    /** The pieces of {@code text} as {@link #GPT2_PATTERN} finds them (the slow reference). */
    public static List<String> splitWithRegex(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = GPT2_PATTERN.matcher(text);
        while (m.find()) {
            pieces.add(m.group());
        }
        return pieces;
    }
}
