package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClozeTaskTest {

    private static final List<String> DOCS = EvalFixtures.documents(21, 12);
    private static final ClozeOptions OPTIONS = new ClozeOptions(60, 3, 120, 40, 5);

    @Test
    void contextAndAnswerAreConsecutiveTextOfTheSourceAndDistractorsComeFromOtherDocuments() {
        List<ClozeQuestion> questions = ClozeTask.build("news", DOCS, OPTIONS);
        assertThat(questions).hasSize(60);
        Set<Integer> positions = new HashSet<>();
        for (ClozeQuestion q : questions) {
            String source = DOCS.get(q.document());
            String answer = q.choices().get(q.answer());
            assertThat(q.choices()).hasSize(4).doesNotHaveDuplicates();
            assertThat(source).contains(q.context() + answer);
            assertThat(q.documentStart()).isEqualTo(source.startsWith(q.context() + answer));
            assertThat(q.context()).isNotBlank();
            // Lengths: about the options' (word boundaries add at most a word).
            assertThat(q.context().length()).isBetween(100, 120);
            assertThat(answer.length()).isBetween(40, 80);
            for (int c = 0; c < q.choices().size(); c++) {
                String choice = q.choices().get(c);
                assertThat(Character.isWhitespace(choice.charAt(0))).as("choice starts at a word boundary").isTrue();
                assertThat(choice).isNotBlank();
                if (c != q.answer()) {
                    boolean elsewhere = false;
                    for (int d = 0; d < DOCS.size(); d++) {
                        elsewhere |= d != q.document() && DOCS.get(d).contains(choice);
                    }
                    assertThat(elsewhere).as("distractor %s comes from another document", choice).isTrue();
                }
            }
            positions.add(q.answer());
        }
        assertThat(positions).as("the answer's position is drawn").containsExactlyInAnyOrder(0, 1, 2, 3);
    }

    @Test
    void theSameSeedGivesTheSameQuestionsAndAnotherSeedOthers() {
        List<ClozeQuestion> a = ClozeTask.build("news", DOCS, OPTIONS);
        List<ClozeQuestion> b = ClozeTask.build("news", DOCS, OPTIONS);
        List<ClozeQuestion> c = ClozeTask.build("news", DOCS, new ClozeOptions(60, 3, 120, 40, 6));
        assertThat(b).isEqualTo(a);
        assertThat(c).isNotEqualTo(a);
    }

    @Test
    void domainsThatCannotGiveQuestionsAreNamed() {
        assertThatThrownBy(() -> ClozeTask.build("math", DOCS.subList(0, 1), OPTIONS))
                .hasMessage("cloze: domain 'math' has 1 document(s); distractors come from other documents, so at"
                        + " least 2 are needed");
        assertThatThrownBy(() -> ClozeTask.build("math", List.of("short one", "another short one"), OPTIONS))
                .hasMessage("cloze: domain 'math' has no document of at least 161 characters (context 120 +"
                        + " continuation 40 + 1)");
        String noSpaces = "x".repeat(500);
        assertThatThrownBy(() -> ClozeTask.build("math", List.of(noSpaces, noSpaces + "y"), OPTIONS))
                .hasMessageStartingWith("cloze: domain 'math': no word boundary found in 100 draws");
        assertThatThrownBy(() -> new ClozeOptions(10, 0, 100, 20, 1))
                .hasMessage("cloze: distractors must be at least 1, got 0");
    }
}
