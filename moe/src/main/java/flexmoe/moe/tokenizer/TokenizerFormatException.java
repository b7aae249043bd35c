package flexmoe.moe.tokenizer;

/**
 * A tokenizer file that cannot be used: the message is one line naming the file, the field (or line) and what was
 * expected, e.g. {@code tokenizer.json: model.merges[12] ("a b") refers to unknown token "b"}.
 */
public final class TokenizerFormatException extends RuntimeException {

    public TokenizerFormatException(String message) {
        super(message);
    }

    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
