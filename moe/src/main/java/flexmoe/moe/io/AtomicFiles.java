package flexmoe.moe.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Atomic writes, the one way flexmoe writes its outputs: into a temporary file next to the target (so the
 * final rename stays on one file system), synced, then moved over the target. A failed write leaves the old
 * file (or nothing) behind, never a partial one.
 */
public final class AtomicFiles {

    /** What writes the content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Writes {@code content} to {@code target} atomically, creating its directory; errors name the file. */
    public static void write(Path target, Content content) {
        Path file = target.toAbsolutePath();
        Path temp = null;
        try {
            Files.createDirectories(file.getParent());
            temp = tempFileFor(file);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            commit(temp, file);
            temp = null;
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write: " + e.getMessage(), e);
        } finally {
            deleteQuietly(temp);
        }
    }

    /** {@link #write} of a byte array. */
    public static void write(Path target, byte[] bytes) {
        write(target, out -> out.write(bytes));
    }

    /**
     * A new, empty, hidden file {@code .<name>.<random>.tmp} in the target's directory, for writers that commit
     * several files together. Unlike {@link Files#createTempFile} (mode 0600) it gets the default permissions, so
     * the renamed file is readable like any other output.
     */
    public static Path tempFileFor(Path target) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        while (true) {
            Path temp = parent.resolve("." + target.getFileName() + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                // another writer drew the same name: draw again
            }
        }
    }

    /** Moves a finished temporary file over its target in one step. */
    public static void commit(Path temp, Path target) throws IOException {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Removes a temporary file after a failure; the failure itself is the error to report. */
    public static void deleteQuietly(Path temp) {
        if (temp != null) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the original error says what happened
            }
        }
    }
}
