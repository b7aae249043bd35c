package flexmoe.experiments.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Fetches packages with the registries' own clients, {@code npm pack NAME@VERSION} and {@code apt-get download NAME},
 * into a cache directory ({@code npm/} and {@code debian/} sub-directories) that later runs read without network.
 * Each download goes to a fresh directory inside the cache and is moved into place only when complete.
 */
public final class RegistryFetcher implements PackageFetcher {

    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    private final Path cache;
    private final String npm;
    private final String aptGet;
    private final Consumer<String> log;
    private boolean npmChecked;
    private boolean aptGetChecked;
    private boolean aptListsUpdated;

    /** Fetches with {@code npm} and {@code apt-get} from the PATH. */
    public RegistryFetcher(Path cache, Consumer<String> log) {
        this(cache, "npm", "apt-get", log);
    }

    /** Fetches with the given client commands (tests use a name that does not exist). */
    RegistryFetcher(Path cache, String npm, String aptGet, Consumer<String> log) {
        this.cache = cache;
        this.npm = npm;
        this.aptGet = aptGet;
        this.log = log;
    }

    /** {@code $XDG_CACHE_HOME/flexmoe/packages}, else {@code ~/.cache/flexmoe/packages}. */
    public static Path defaultCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("flexmoe").resolve("packages");
    }

    @Override
    public Path fetch(FlexMixRecipe.Package pkg) {
        return switch (pkg.registry()) {
            case NPM -> fetchNpm(pkg);
            case DEBIAN -> fetchDebian(pkg);
        };
    }

    private Path fetchNpm(FlexMixRecipe.Package pkg) {
        Path dir = cache.resolve("npm");
        Path target = dir.resolve(PackageFetcher.npmFileName(pkg));
        if (Files.isRegularFile(target)) {
            return target;
        }
        if (!npmChecked) {
            requireTool(npm, "fetches npm package " + pkg.label(), "install Node.js (it includes npm)");
            npmChecked = true;
        }
        log.accept("fetching " + pkg.label() + " with npm pack");
        return download(dir, target.getFileName().toString(), List.of(npm, "pack", pkg.label(), "--silent",
                "--pack-destination", "."), pkg, output -> "npm pack " + pkg.label() + " failed: " + lastLine(output));
    }

    private Path fetchDebian(FlexMixRecipe.Package pkg) {
        Path dir = cache.resolve("debian");
        Path cached = PackageDirectory.onlyDeb(dir, pkg.name());
        if (cached != null) {
            return cached;
        }
        if (!aptGetChecked) {
            requireTool(aptGet, "fetches Debian package " + pkg.name(), "on Debian 12 it is part of apt");
            aptGetChecked = true;
        }
        log.accept("fetching " + pkg.name() + " with apt-get download");
        try {
            return downloadDeb(dir, pkg);
        } catch (PackageNotLocated e) {
            // A fresh Debian machine has no package lists yet. As root, fetch them once, as a user would, and retry.
            if (aptListsUpdated || !"root".equals(System.getProperty("user.name"))) {
                throw new FlexMixException(e.getMessage());
            }
            log.accept("apt-get cannot locate " + pkg.name() + ": running 'apt-get update' once to fetch the package"
                    + " lists");
            Result r = run(List.of(aptGet, "update"), Path.of("").toAbsolutePath());
            aptListsUpdated = true;
            if (r.exit() != 0) {
                throw new FlexMixException("apt-get update failed: " + lastLine(r.output()));
            }
            try {
                return downloadDeb(dir, pkg);
            } catch (PackageNotLocated again) {
                throw new FlexMixException(again.getMessage());
            }
        }
    }

    private Path downloadDeb(Path dir, FlexMixRecipe.Package pkg) {
        return download(dir, null, List.of(aptGet, "download", pkg.name()), pkg, output -> {
            if (output.contains("Unable to locate package") || output.contains("has no installation candidate")) {
                throw new PackageNotLocated("apt-get download " + pkg.name() + ": Unable to locate package "
                        + pkg.name() + " (no package lists yet? run 'apt-get update' as root; the recipe names Debian 12"
                        + " 'bookworm' packages)");
            }
            return "apt-get download " + pkg.name() + " failed: " + lastLine(output);
        });
    }

    /** apt-get knows no such package: no package lists yet, or not a Debian 12 machine. */
    private static final class PackageNotLocated extends RuntimeException {
        PackageNotLocated(String message) {
            super(message);
        }
    }

    /**
     * Runs {@code command} in a fresh directory inside {@code dir} and moves the one package file it writes to
     * {@code dir} (as {@code name}, or under its own name when null).
     */
    private Path download(Path dir, String name, List<String> command, FlexMixRecipe.Package pkg,
                          java.util.function.Function<String, String> failure) {
        Path work = null;
        try {
            Files.createDirectories(dir);
            work = Files.createTempDirectory(dir, ".fetch-");
            Result r = run(command, work);
            if (r.exit() != 0) {
                throw new FlexMixException(failure.apply(r.output()));
            }
            List<Path> written;
            try (Stream<Path> files = Files.list(work)) {
                written = files.filter(p -> p.getFileName().toString().endsWith(pkg.registry() == FlexMixRecipe.Registry.NPM
                        ? ".tgz" : ".deb")).toList();
            }
            if (written.size() != 1) {
                throw new FlexMixException(String.join(" ", command) + " wrote " + written.size()
                        + " package files, expected 1: " + lastLine(r.output()));
            }
            Path target = dir.resolve(name != null ? name : written.getFirst().getFileName().toString());
            Files.move(written.getFirst(), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new FlexMixException("fetching " + pkg.label() + " into " + dir + ": " + e.getMessage(), e);
        } finally {
            if (work != null) {
                FileTrees.deleteQuietly(work);
            }
        }
    }

    private void requireTool(String tool, String purpose, String hint) {
        Result r;
        try {
            r = run(List.of(tool, "--version"), Path.of("").toAbsolutePath());
        } catch (UncheckedIOException e) {
            r = null;
        }
        if (r == null || r.exit() != 0) {
            throw new FlexMixException(tool + " not found on PATH (it " + purpose + "): " + hint
                    + ", or build from packages downloaded elsewhere with --from DIR, or use a corpus you already have"
                    + " (see README, 'Corpus format')");
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> command, Path dir) {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = p.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        try {
            if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new FlexMixException(String.join(" ", command) + " did not finish within " + TIMEOUT.toMinutes()
                        + " minutes (network down?)");
            }
            return new Result(p.exitValue(), output.get());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new FlexMixException(String.join(" ", command) + " was interrupted");
        } catch (ExecutionException e) {
            return new Result(p.exitValue(), "");
        }
    }

    /** The last non-blank line of a tool's output that is not one of apt's warnings: usually the reason. */
    private static String lastLine(String output) {
        List<String> lines = new ArrayList<>(output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
        lines.removeIf(l -> l.startsWith("W: "));
        return lines.isEmpty() ? "(no output)" : lines.getLast();
    }
}
