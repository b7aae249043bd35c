package flexmoe.moe.data;

/**
 * A packed-token file ({@code <domain>.<split>.bin}) that is corrupt, truncated, of another format version, or made
 * with another tokenizer. The message is one line naming the file and what was expected.
 */
public final class PackFormatException extends RuntimeException {

    public PackFormatException(String message) {
        super(message);
    }

    public PackFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
