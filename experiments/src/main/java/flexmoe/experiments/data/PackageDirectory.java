package flexmoe.experiments.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Packages already downloaded into a directory ({@code --from DIR}): for machines without npm or apt-get, or without
 * network. A package is looked for directly in the directory and in its {@code npm/} or {@code debian/}
 * sub-directory, so the package cache of another machine can be copied over as it is.
 */
public final class PackageDirectory implements PackageFetcher {

    private final Path dir;

    public PackageDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new FlexMixException("--from " + dir + ": not a directory (expected the package files npm pack and"
                    + " apt-get download write)");
        }
        this.dir = dir;
    }

    @Override
    public Path fetch(FlexMixRecipe.Package pkg) {
        return switch (pkg.registry()) {
            case NPM -> {
                String file = PackageFetcher.npmFileName(pkg);
                for (Path candidate : List.of(dir.resolve(file), dir.resolve("npm").resolve(file))) {
                    if (Files.isRegularFile(candidate)) {
                        yield candidate;
                    }
                }
                throw new FlexMixException("--from " + dir + ": no " + file + " for npm package " + pkg.label()
                        + " (make it with: npm pack " + pkg.label() + ")");
            }
            case DEBIAN -> {
                Path found = onlyDeb(dir, pkg.name());
                if (found == null) {
                    found = onlyDeb(dir.resolve("debian"), pkg.name());
                }
                if (found == null) {
                    throw new FlexMixException("--from " + dir + ": no " + pkg.name() + "_VERSION_ARCH.deb for Debian package "
                            + pkg.name() + " (make it with: apt-get download " + pkg.name() + ")");
                }
                yield found;
            }
        };
    }

    /**
     * The package's .deb in {@code dir}, or null if there is none. Several versions are an error rather than a guess:
     * Debian version order is not file-name order.
     */
    static Path onlyDeb(Path dir, String name) {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        List<Path> debs;
        try (Stream<Path> files = Files.list(dir)) {
            debs = files.filter(p -> {
                        String f = p.getFileName().toString();
                        return f.startsWith(name + "_") && PackageFetcher.debianVersion(f) != null && Files.isRegularFile(p);
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new FlexMixException(dir + ": cannot list: " + e.getMessage(), e);
        }
        if (debs.size() > 1) {
            throw new FlexMixException(dir + ": several versions of Debian package " + name + ": "
                    + debs.stream().map(p -> p.getFileName().toString()).toList() + "; keep one");
        }
        return debs.isEmpty() ? null : debs.getFirst();
    }
}
