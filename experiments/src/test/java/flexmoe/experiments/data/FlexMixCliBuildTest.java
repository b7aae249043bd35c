package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.experiments.FlexMoeCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole command on generated packages: --recipe, --from, the progress lines and the up-to-date message. */
class FlexMixCliBuildTest {

    @Test
    void buildsFromPackagesOnDiskThenSaysItIsUpToDate(@TempDir Path tmp) throws Exception {
        FakeFlexMix mix = new FakeFlexMix(tmp.resolve("packages"), 12, 20);
        Path recipe = Files.writeString(tmp.resolve("recipe.json"), FlexMixRecipe.canonicalJson().writeValueAsString(mix.recipe));
        // --from finds Debian packages by name, so the package file needs no renaming.
        Path out = tmp.resolve("corpus");
        String[] args = {"data", "flexmix-mini", "--recipe", recipe.toString(), "--from", tmp.resolve("packages").toString(),
                "--out", out.toString(), "--budget", "2kB"};

        Captured first = run(args);
        assertThat(first.code).isZero();
        assertThat(first.out).startsWith("FlexMix-mini written to " + out + " (recipe " + mix.recipe.sha256().substring(0, 12) + ")");
        assertThat(first.err).contains("fake-mix: public/brown: ").contains("fake-mix: news: ");
        assertThat(out.resolve("MANIFEST.json")).exists();

        Captured second = run(args);
        assertThat(second.code).isZero();
        assertThat(second.out.strip()).isEqualTo("FlexMix-mini at " + out + " is up to date (recipe "
                + mix.recipe.sha256().substring(0, 12) + ")");
        assertThat(second.err).isEmpty();
    }

    private record Captured(int code, String out, String err) {
    }

    private static Captured run(String... args) {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = FlexMoeCli.run(args);
            return new Captured(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }
}
