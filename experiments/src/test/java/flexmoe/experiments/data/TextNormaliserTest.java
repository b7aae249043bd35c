package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TextNormaliserTest {

    @Test
    void decodesUtf8AndFallsBackToWindows1252() {
        assertThat(TextNormaliser.decode("\uFEFFcaf\u00e9 \u2014 ok".getBytes(StandardCharsets.UTF_8))).isEqualTo("caf\u00e9 \u2014 ok");
        byte[] latin = "caf\u00e9 \u201cquoted\u201d".getBytes(Charset.forName("windows-1252"));
        assertThat(TextNormaliser.decode(latin)).isEqualTo("caf\u00e9 \u201cquoted\u201d");
    }

    @Test
    void normalisesNewlinesControlCharactersTrailingSpaceAndBlankRuns() {
        String messy = "\n\n  indented\r\nline\u0007 two   \rthree\n\n\n\n\n\nfour\t\u0000\n\n";
        assertThat(TextNormaliser.normalise(messy)).isEqualTo("  indented\nline two\nthree\n\n\nfour");
    }

    @Test
    void whitespaceOnlyBecomesEmpty() {
        assertThat(TextNormaliser.normalise(" \n\t\n ")).isEmpty();
    }
}
