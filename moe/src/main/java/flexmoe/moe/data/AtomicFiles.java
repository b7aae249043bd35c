package flexmoe.moe.data;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/** Temporary files for atomic writes: created next to the target, so the final rename stays on one file system. */
final class AtomicFiles {

    private AtomicFiles() {
    }

    /**
     * A new, empty, hidden file {@code .<name>.<random>.tmp} in the target's directory. Unlike
     * {@link Files#createTempFile} (mode 0600) it gets the default permissions, so the renamed file is readable like any
     * other output.
     */
    static Path tempFileFor(Path target) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        while (true) {
            Path temp = parent.resolve("." + target.getFileName() + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                // another run picked the same name: draw again
            }
        }
    }
}
