package flexmoe.moe.data;

/**
 * A problem with a corpus the user brought, or with a request against it: the message is one line that names the
 * directory, file (and line) and what was expected. The CLI prints it as {@code flexmoe: <message>}.
 */
public final class CorpusException extends RuntimeException {

    public CorpusException(String message) {
        super(message);
    }

    public CorpusException(String message, Throwable cause) {
        super(message, cause);
    }
}
