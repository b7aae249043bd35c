package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FactbookCleanerTest {

    @Test
    void keepsLongTextFieldsInOrderAndSplitsParagraphMarks() {
        String longOne = "Lorem ipsum history sentence. ".repeat(8).strip();
        String longTwo = "Another long economy paragraph. ".repeat(8).strip();
        String json = """
                {"Introduction": {"Background": {"text": "%s ++ %s"}},
                 "Geography": {"Coordinates": {"text": "51 00 N, 9 00 E"},
                               "Notes": [{"text": "%s"}]}}
                """.formatted(longOne, longTwo, longTwo);
        assertThat(Cleaner.FACTBOOK.clean(json)).isEqualTo(longOne + "\n\n" + longTwo + "\n\n" + longTwo);
    }

    @Test
    void aFileWithOnlyShortFieldsIsEmpty() {
        assertThat(Cleaner.FACTBOOK.clean("{\"Area\": {\"total\": {\"text\": \"357,022 sq km\"}}}")).isEmpty();
    }
}
