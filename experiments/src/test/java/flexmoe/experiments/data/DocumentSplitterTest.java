package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class DocumentSplitterTest {

    @Test
    void aFileIsOneDocument() {
        assertThat(DocumentSplitter.split("a\nb\n", FlexMixRecipe.Splitting.file())).containsExactly("a\nb\n");
    }

    @Test
    void headingsStartDocumentsAndFrontMatterGoes() {
        String text = "Contents\n  1 One\nChapter 1. One\nfirst\nChapter 2. Two\nsecond\n";
        assertThat(DocumentSplitter.split(text, FlexMixRecipe.Splitting.headings("Chapter \\d+\\. .*")))
                .containsExactly("Chapter 1. One\nfirst\n", "Chapter 2. Two\nsecond\n\n");
    }

    @Test
    void separatorLinesSplitAndVanish() {
        String fortunes = "first saying\n%\nsecond\nsaying\n%\n";
        assertThat(DocumentSplitter.split(fortunes, FlexMixRecipe.Splitting.separator("%")))
                .containsExactly("first saying\n", "second\nsaying\n", "\n");
    }

    @Test
    void skippedDocumentsAreDroppedByTheirFirstLine() {
        String text = "Glossary\n   a\n   b\n   :a: first\n   :b: second\n";
        FlexMixRecipe.Splitting s = FlexMixRecipe.Splitting.headings("(Glossary|   :[^:]+:.*)").skipping("Glossary");
        assertThat(DocumentSplitter.split(text, s)).containsExactly("   :a: first\n", "   :b: second\n\n");
    }

    @Test
    void aDocumentUnderTheCapIsUntouched() {
        assertThat(DocumentSplitter.chunk("  indented code\n", 100)).containsExactly("  indented code\n");
    }

    @Test
    void oversizedDocumentsAreCutAtParagraphsFirst() {
        String p = "word ".repeat(15).strip();
        String doc = p + "\n\n" + p + "\n\n" + p;
        // A paragraph carries its break: two paragraphs and their breaks fit, the third does not.
        List<String> pieces = DocumentSplitter.chunk(doc, 2 * p.length() + 4);
        assertThat(pieces).containsExactly(p + "\n\n" + p, p);
    }

    @Test
    void aLongWordIsCutBetweenCharactersNeverInsideOne() {
        String word = "\uD83D\uDE00".repeat(10);  // 10 emoji, 4 UTF-8 bytes each
        List<String> pieces = DocumentSplitter.chunk(word, 10);
        assertThat(pieces).allSatisfy(p -> assertThat(DocumentSplitter.utf8Length(p)).isLessThanOrEqualTo(10));
        assertThat(String.join("", pieces)).isEqualTo(word);
    }

    @RepeatedTest(20)
    void piecesRespectTheCapAndKeepEveryWord() {
        SplittableRandom rng = new SplittableRandom();
        StringBuilder b = new StringBuilder();
        String[] seps = {" ", " ", " ", ". ", "\n", "\n\n"};
        for (int k = 0; k < 2000; k++) {
            b.append("w").append(rng.nextInt(1000)).append(rng.nextInt(20) == 0 ? "\u00e9" : "").append(seps[rng.nextInt(seps.length)]);
        }
        String doc = b.toString().strip();
        int cap = 50 + rng.nextInt(500);
        List<String> pieces = DocumentSplitter.chunk(doc, cap);
        assertThat(pieces).allSatisfy(p -> assertThat(DocumentSplitter.utf8Length(p)).isBetween(1L, (long) cap));
        assertThat(String.join(" ", pieces).split("\\s+")).containsExactly(doc.split("\\s+"));
    }

    @Test
    void utf8LengthMatchesTheEncoder() {
        String s = "a\u00e9\u20ac\uD83D\uDE00";
        assertThat(DocumentSplitter.utf8Length(s)).isEqualTo(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
}
