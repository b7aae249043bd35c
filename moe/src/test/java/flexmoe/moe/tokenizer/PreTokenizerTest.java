package flexmoe.moe.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class PreTokenizerTest {

    @Property(tries = 3000)
    void splitsLikeTheGpt2Regex(@ForAll("javaStrings") String text) {
        assertThat(PreTokenizer.split(text)).isEqualTo(PreTokenizer.splitWithRegex(text));
        assertThat(String.join("", PreTokenizer.split(text))).isEqualTo(text);
    }

    @Provide
    Arbitrary<String> javaStrings() {
        return Generators.javaStrings();
    }

    @Test
    void adversarialCasesSplitLikeTheRegex() {
        String[] cases = {
            "", " ", "  ", "   x", "a  b", "a   b", "a\n\nb", "a \n b", " \n", "\n ", "trailing   ", "x\t\t\ty",
            "I'm", "I'M", "don't", "'s'", "''s", "' s", " 's", "'ll've're'd", "'", "'r", "'re", "'l", "rock'n'roll",
            "!!!'s", "a!!!b", " !!! ", "1234 5678", " 12abc", "½¾", "Ⅻ 𝟎", "e\u0301", "e \u0301", "\u0301\u0301x",
            "東京タワー 2024", "🙂🙂 🙂", " 🚀x", "\u00a0a", "\u3000\u3000b", "a\u2028b", "\u001c\u001cA", "\u0085 x",
            "\ud800", "a\ud800b", "\udc00 x", " \ud83d", "\ud83d\ude42\ud83d", "x\u200by", "<|endoftext|>",
        };
        for (String text : cases) {
            assertThat(PreTokenizer.split(text)).as("split of %s", BpeTokenizer.quote(text))
                    .isEqualTo(PreTokenizer.splitWithRegex(text));
        }
    }

    @Test
    void knownSplits() {
        // Derived from the regex by hand: a space attaches to the word after it, the last of a run of spaces too.
        assertThat(PreTokenizer.split("Hello world")).containsExactly("Hello", " world");
        assertThat(PreTokenizer.split("Hello   world")).containsExactly("Hello", "  ", " world");
        assertThat(PreTokenizer.split("I'm here's")).containsExactly("I", "'m", " here", "'s");
        assertThat(PreTokenizer.split("x = 42;\n")).containsExactly("x", " =", " 42", ";", "\n");
        assertThat(PreTokenizer.split("end  ")).containsExactly("end", "  ");
    }

    @Test
    void characterClassesMatchTheRegexForEveryCodePoint() {
        Pattern letter = Pattern.compile("\\p{L}", Pattern.UNICODE_CHARACTER_CLASS);
        Pattern number = Pattern.compile("\\p{N}", Pattern.UNICODE_CHARACTER_CLASS);
        Pattern space = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String s = Character.toString(cp);
            byte expected = space.matcher(s).matches() ? PreTokenizer.SPACE
                    : letter.matcher(s).matches() ? PreTokenizer.LETTER
                    : number.matcher(s).matches() ? PreTokenizer.NUMBER
                    : PreTokenizer.OTHER;
            if (PreTokenizer.classOf(cp) != expected) {
                throw new AssertionError(String.format("U+%04X: class %d, the regex says %d", cp,
                        PreTokenizer.classOf(cp), expected));
            }
        }
    }
}
