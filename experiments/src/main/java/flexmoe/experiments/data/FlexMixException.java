package flexmoe.experiments.data;

/**
 * A problem the user can fix (a missing tool, a checksum mismatch, a bad recipe, an unreadable package), reported as
 * one line that names the package, file or tool and what was expected. The CLI prints it as {@code flexmoe: <message>}.
 */
public final class FlexMixException extends RuntimeException {

    public FlexMixException(String message) {
        super(message);
    }

    public FlexMixException(String message, Throwable cause) {
        super(message, cause);
    }
}
