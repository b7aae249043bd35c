package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArchiveFilesTest {

    @TempDir
    Path tmp;

    @Test
    void readsSelectedFilesOfAnNpmTarballSortedByPath() throws Exception {
        Path tgz = TestPackages.npmTarball(tmp.resolve("p-1.0.0.tgz"), Map.of(
                "package/data/b.txt", "bee", "package/data/a.txt", "ay", "package/README.md", "readme",
                "package/data/sub/c.txt", "sea"));
        List<ArchiveFiles.Entry> entries = ArchiveFiles.read(tgz,
                ArchiveFiles.selection(List.of("package/data/*.txt"), List.of()));
        assertThat(entries).extracting(ArchiveFiles.Entry::path).containsExactly("package/data/a.txt", "package/data/b.txt");
        assertThat(new String(entries.getFirst().bytes(), StandardCharsets.UTF_8)).isEqualTo("ay");
    }

    @ParameterizedTest
    @ValueSource(strings = {"xz", "gz"})
    void readsDebianPackagesDecompressingGzMembersAndSkippingLinks(String compression) throws Exception {
        Path deb = TestPackages.deb(tmp.resolve("x_1.0-1_all.deb"), Map.of(
                "./usr/share/doc/x/notes.txt.gz", TestPackages.gzipped("zipped notes\n"),
                "./usr/share/doc/x/plain.txt", "plain",
                "./usr/share/doc/x/tests/skip.txt", "excluded"), compression);
        List<ArchiveFiles.Entry> entries = ArchiveFiles.read(deb,
                ArchiveFiles.selection(List.of("usr/share/doc/**"), List.of("**/tests/**")));
        assertThat(entries).extracting(ArchiveFiles.Entry::path)
                .containsExactly("usr/share/doc/x/notes.txt.gz", "usr/share/doc/x/plain.txt");
        assertThat(new String(entries.getFirst().bytes(), StandardCharsets.UTF_8)).isEqualTo("zipped notes\n");
    }

    @Test
    void aFileThatIsNoPackageIsNamedInTheError() throws Exception {
        Path bogus = Files.writeString(tmp.resolve("bogus.tgz"), "<html>proxy login</html>");
        assertThatThrownBy(() -> ArchiveFiles.read(bogus, p -> true))
                .isInstanceOf(FlexMixException.class)
                .hasMessageContaining("bogus.tgz")
                .hasMessageContaining("not a package");
    }
}
