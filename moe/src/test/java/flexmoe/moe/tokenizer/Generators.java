package flexmoe.moe.tokenizer;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;

/** jqwik generators of text that stresses the pre-tokenizer and byte-level BPE. */
final class Generators {

    private Generators() {
    }

    /** Code points, weighted towards what matters: ASCII, whitespace of every kind, the contraction letters. */
    private static Arbitrary<Integer> codePoints(boolean withLoneSurrogates) {
        Arbitrary<Integer> any = Arbitraries.integers().between(0, 0x10FFFF)
                .filter(c -> withLoneSurrogates || c < 0xD800 || c > 0xDFFF);
        return Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.integers().between(0x20, 0x7E)),
                Tuple.of(12, Arbitraries.of(List.of((int) ' ', (int) ' ', (int) '\n', (int) '\t', (int) '\r', 0x0B, 0x0C,
                        0x85, 0xA0, 0x1680, 0x2000, 0x2007, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
                        0x1C, 0x1F, 0x200B, 0xFEFF))),
                Tuple.of(10, Arbitraries.of(List.of((int) '\'', (int) 's', (int) 't', (int) 'r', (int) 'e', (int) 'v',
                        (int) 'l', (int) 'm', (int) 'd', (int) 'S', (int) 'T'))),
                Tuple.of(4, Arbitraries.integers().between(0, 0x1F)),
                Tuple.of(4, Arbitraries.integers().between(0x80, 0x7FF)),
                Tuple.of(4, Arbitraries.integers().between(0x300, 0x36F)),
                Tuple.of(4, Arbitraries.integers().between(0x4E00, 0x9FFF)),
                Tuple.of(4, Arbitraries.integers().between(0x1F300, 0x1FAFF)),
                Tuple.of(3, Arbitraries.of(List.of(0xBD, 0x2167, 0x0660, 0x1D7CE, 0x10107, 0xB2))),
                Tuple.of(5, any));
    }

    /** Strings of valid Unicode (no unpaired surrogates), up to 120 code points. */
    static Arbitrary<String> unicodeText() {
        return text(codePoints(false), 120);
    }

    /** Like {@link #unicodeText()}, plus unpaired surrogates: what a Java String can hold. */
    static Arbitrary<String> javaStrings() {
        Arbitrary<Integer> surrogates = Arbitraries.integers().between(0xD800, 0xDFFF);
        return text(Arbitraries.frequencyOf(Tuple.of(9, codePoints(false)), Tuple.of(1, surrogates)), 120);
    }

    private static Arbitrary<String> text(Arbitrary<Integer> codePoints, int maxLength) {
        return codePoints.list().ofMaxSize(maxLength).map(cps -> {
            StringBuilder sb = new StringBuilder();
            for (int cp : cps) {
                sb.appendCodePoint(cp);
            }
            return sb.toString();
        });
    }
}
