package flexmoe.moe.data;

/** Why a document was skipped (counted and reported, not fatal unless a domain ends up with no documents). */
public enum SkipReason {
    INVALID_UTF8("invalid UTF-8"),
    NOT_JSON("JSONL line is not a JSON object"),
    NO_TEXT("JSONL object has no string field \"text\""),
    EMPTY("empty document"),
    TOO_LARGE("over the size cap");

    private final String description;

    SkipReason(String description) {
        this.description = description;
    }

    /** Short human description, e.g. {@code invalid UTF-8}. */
    public String description() {
        return description;
    }
}
