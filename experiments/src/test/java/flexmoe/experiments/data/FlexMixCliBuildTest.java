package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.experiments.ConsoleCapture;
import flexmoe.experiments.FlexMoeCli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The whole command on generated packages: --recipe, --from, the progress lines and the up-to-date message. */
class FlexMixCliBuildTest {

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void buildsFromPackagesOnDiskThenSaysItIsUpToDate(@TempDir Path tmp) throws Exception {
        FakeFlexMix mix = new FakeFlexMix(tmp.resolve("packages"), 12, 20);
        Path recipe = Files.writeString(tmp.resolve("recipe.json"), FlexMixRecipe.canonicalJson().writeValueAsString(mix.recipe));
        // --from finds Debian packages by name, so the package file needs no renaming.
        Path out = tmp.resolve("corpus");
        String[] args = {"data", "flexmix-mini", "--recipe", recipe.toString(), "--from", tmp.resolve("packages").toString(),
                "--out", out.toString(), "--budget", "2kB"};

        assertThat(FlexMoeCli.run(args)).isZero();
        assertThat(console.takeOut()).startsWith("FlexMix-mini written to " + out + " (recipe " + mix.recipe.sha256().substring(0, 12) + ")");
        assertThat(console.takeErr()).contains("fake-mix: public/brown: ").contains("fake-mix: news: ");
        assertThat(out.resolve("MANIFEST.json")).exists();

        assertThat(FlexMoeCli.run(args)).isZero();
        assertThat(console.takeOut().strip()).isEqualTo("FlexMix-mini at " + out + " is up to date (recipe "
                + mix.recipe.sha256().substring(0, 12) + ")");
        assertThat(console.takeErr()).isEmpty();
    }
}
