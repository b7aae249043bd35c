package flexmoe.moe.data;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The document-level split a document belongs to; {@link SplitFractions#splitOf(String)} decides which. */
public enum Split {
    TRAIN("train"), VALID("valid"), TEST("test");

    private final String id;

    Split(String id) {
        this.id = id;
    }

    /** The name used in file names and on the command line: {@code train}, {@code valid}, {@code test}. */
    public String id() {
        return id;
    }

    /** The split named {@code id} ({@code train}, {@code valid} or {@code test}). */
    public static Split of(String id) {
        for (Split s : values()) {
            if (s.id.equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown split '" + id + "': expected one of "
                + Arrays.stream(values()).map(Split::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
