package flexmoe.experiments.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small generated FlexMix: an npm-like package of Brown-style tagged samples (public domain) and a Debian-like
 * package with a gzip-compressed Info manual (news domain), plus the recipe that reads them.
 */
final class FakeFlexMix {

    private static final String[] WORDS = {"model", "expert", "router", "data", "public", "private", "owner", "merge",
            "train", "token", "layer", "budget", "noise", "clip", "domain", "text"};

    final Path npmTarball;
    final Path deb;
    final FlexMixRecipe recipe;

    FakeFlexMix(Path dir, int samples, int nodes) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom rng = new SplittableRandom(42);
        Map<String, String> brown = new LinkedHashMap<>();
        for (int k = 0; k < samples; k++) {
            brown.put(String.format("package/c%c%02d", 'a' + k % 3, k), taggedSample(rng));
        }
        brown.put("package/README", "not a sample");
        npmTarball = TestPackages.npmTarball(dir.resolve("fake-brown-1.0.0.tgz"), brown);
        StringBuilder info = new StringBuilder("This is fake.info, produced by a test.\n\n");
        for (int k = 0; k < nodes; k++) {
            info.append("\u001f\nFile: fake.info,  Node: Node ").append(k).append(",  Up: Top\n\n")
                    .append(k).append(" Node ").append(k).append("\n*****\n\n").append(sentence(rng, 40)).append("\n\n");
        }
        info.append("\u001f\nTag Table:\n\u001f\nEnd Tag Table\n");
        deb = TestPackages.deb(dir.resolve("fake-doc_2.0-1_all.deb"),
                Map.of("./usr/share/info/fake.info.gz", TestPackages.gzipped(info.toString())), "xz");
        recipe = recipe(Hashing.sha256Hex(npmTarball));
    }

    FlexMixRecipe recipe(String npmSha256) {
        FlexMixRecipe.Package npm = FlexMixRecipe.Package.npm("fake-brown", "1.0.0", npmSha256);
        return new FlexMixRecipe("fake-mix", 1, 20, 4000, List.of(
                new FlexMixRecipe.Domain("public", 2.0, List.of(new FlexMixRecipe.Source("brown", "tagged samples",
                        List.of(npm), List.of("package/c[a-c][0-9][0-9]"), List.of(), FlexMixRecipe.Splitting.file(),
                        Cleaner.BROWN, "generated, CC0-1.0"))),
                new FlexMixRecipe.Domain("news", 1.0, List.of(new FlexMixRecipe.Source("manual", "info nodes",
                        List.of(FlexMixRecipe.Package.debian("fake-doc")), List.of("usr/share/info/*.info.gz"), List.of(),
                        FlexMixRecipe.Splitting.separator("\\x1f"), Cleaner.INFO, "generated, CC0-1.0")))));
    }

    /** A fetcher that serves the generated files and counts calls; {@code failing} names a package it refuses. */
    static final class Fetcher implements PackageFetcher {
        final Map<String, Path> files = new LinkedHashMap<>();
        final List<String> calls = new ArrayList<>();
        String failing;

        Fetcher(FakeFlexMix mix) {
            files.put("fake-brown", mix.npmTarball);
            files.put("fake-doc", mix.deb);
        }

        @Override
        public Path fetch(FlexMixRecipe.Package pkg) {
            calls.add(pkg.name());
            if (pkg.name().equals(failing)) {
                throw new FlexMixException("fake registry refuses " + pkg.name());
            }
            return files.get(pkg.name());
        }
    }

    private static String taggedSample(SplittableRandom rng) {
        StringBuilder b = new StringBuilder();
        int sentences = 3 + rng.nextInt(8);
        for (int s = 0; s < sentences; s++) {
            b.append("\n\n\t");
            int n = 4 + rng.nextInt(12);
            for (int w = 0; w < n; w++) {
                b.append(WORDS[rng.nextInt(WORDS.length)]).append("/nn ");
                if (rng.nextInt(8) == 0) {
                    b.append(",/, ");
                }
            }
            b.append("./.\n");
        }
        return b.toString();
    }

    private static String sentence(SplittableRandom rng, int words) {
        StringBuilder b = new StringBuilder();
        for (int w = 0; w < words; w++) {
            b.append(w == 0 ? "" : " ").append(WORDS[rng.nextInt(WORDS.length)]);
        }
        return b.append('.').toString();
    }
}
