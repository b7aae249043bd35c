package flexmoe.experiments;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Captures System.out and System.err around each test (and restores them, and System.in, afterwards), for
 * tests of the command line: {@code @RegisterExtension final ConsoleCapture console = new ConsoleCapture();}.
 */
public final class ConsoleCapture implements BeforeEachCallback, AfterEachCallback {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;
    private InputStream savedIn;

    @Override
    public void beforeEach(ExtensionContext context) {
        savedOut = System.out;
        savedErr = System.err;
        savedIn = System.in;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        System.setOut(savedOut);
        System.setErr(savedErr);
        System.setIn(savedIn);
    }

    /** Everything printed to System.out so far. */
    public String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Everything printed to System.err so far. */
    public String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** System.out since the last take, then forgets it. */
    public String takeOut() {
        String s = out();
        out.reset();
        return s;
    }

    /** System.err since the last take, then forgets it. */
    public String takeErr() {
        String s = err();
        err.reset();
        return s;
    }
}
