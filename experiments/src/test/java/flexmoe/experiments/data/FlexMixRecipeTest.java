package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlexMixRecipeTest {

    private final FlexMixRecipe recipe = FlexMixMiniRecipe.standard();

    @Test
    void hasThePublicMixAndTheSevenClosedDomains() {
        assertThat(recipe.validate().domainNames())
                .containsExactly("public", "news", "forum", "code", "academic", "educational", "creative", "math");
    }

    @Test
    void closedDomainsShareOneBudgetAndThePublicMixIsLarger() {
        for (FlexMixRecipe.Domain d : recipe.domains()) {
            if (d.name().equals(FlexMixRecipe.PUBLIC)) {
                assertThat(d.budgetShare()).isGreaterThan(1.0);
            } else {
                assertThat(d.budgetShare()).isEqualTo(1.0);
            }
        }
    }

    @Test
    void everyNpmPackageIsPinnedAndEverySourceLicensed() {
        for (FlexMixRecipe.Domain d : recipe.domains()) {
            for (FlexMixRecipe.Source s : d.sources()) {
                assertThat(s.licence()).as(s.id()).isNotBlank();
                assertThat(s.description()).as(s.id()).isNotBlank();
                for (FlexMixRecipe.Package p : s.packages()) {
                    if (p.registry() == FlexMixRecipe.Registry.NPM) {
                        assertThat(p.version()).as(p.name()).matches("\\d+\\.\\d+\\.\\d+");
                        assertThat(p.sha256()).as(p.name()).matches("[0-9a-f]{64}");
                    } else {
                        assertThat(p.version()).as(p.name() + ": Debian versions drift, so they are recorded, not pinned").isNull();
                    }
                }
            }
        }
    }

    @Test
    void jsonRoundTripGivesTheSameRecipeAndHash(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("recipe.json");
        Files.writeString(file, FlexMixRecipe.canonicalJson().writeValueAsString(recipe));
        FlexMixRecipe read = FlexMixBuilder.readRecipe(file);
        assertThat(read).isEqualTo(recipe);
        assertThat(read.sha256()).isEqualTo(recipe.sha256()).matches("[0-9a-f]{64}");
    }

    @Test
    void theHashChangesWithTheRecipe() {
        FlexMixRecipe bumped = new FlexMixRecipe(recipe.name(), recipe.revision() + 1, recipe.minDocumentBytes(),
                recipe.maxDocumentBytes(), recipe.domains());
        assertThat(bumped.sha256()).isNotEqualTo(recipe.sha256());
    }

    @Test
    void anUnpinnedNpmPackageIsRejectedByName() {
        FlexMixRecipe.Source unpinned = new FlexMixRecipe.Source("s", "d",
                List.of(new FlexMixRecipe.Package(FlexMixRecipe.Registry.NPM, "some-corpus", "1.0.0", null)),
                List.of("package/*"), List.of(), FlexMixRecipe.Splitting.file(), Cleaner.PLAIN, "CC0-1.0");
        assertThatThrownBy(() -> withPublicSource(unpinned).validate())
                .isInstanceOf(FlexMixException.class)
                .hasMessage("recipe: public/s: npm package some-corpus@1.0.0 needs a pinned 'sha256' (64 lower-case hex digits)");
    }

    @Test
    void aSourceWithoutLicenceIsRejected() {
        FlexMixRecipe.Source unlicensed = new FlexMixRecipe.Source("s", "d", List.of(FlexMixRecipe.Package.debian("x")),
                List.of("usr/*"), List.of(), FlexMixRecipe.Splitting.file(), Cleaner.PLAIN, " ");
        assertThatThrownBy(() -> withPublicSource(unlicensed).validate()).hasMessage("recipe: public/s: 'licence' is missing");
    }

    @Test
    void aRecipeWithoutPublicDomainIsRejected() {
        List<FlexMixRecipe.Domain> closed = new ArrayList<>(recipe.domains().subList(1, recipe.domains().size()));
        assertThatThrownBy(() -> new FlexMixRecipe("x", 1, 10, 10_000, closed).validate())
                .hasMessageContaining("no 'public' domain");
    }

    private static FlexMixRecipe withPublicSource(FlexMixRecipe.Source source) {
        return new FlexMixRecipe("x", 1, 10, 10_000, List.of(new FlexMixRecipe.Domain("public", 1, List.of(source))));
    }
}
