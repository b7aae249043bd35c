package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FlexMoeCliTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    void listsTheJvmBackend() {
        assertThat(FlexMoeCli.run("backends")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("jvm\t");
    }

    @Test
    void unknownBackendIsAOneLineErrorAndNonZeroExit() {
        assertThat(FlexMoeCli.run("quickstart", "--backend", "nope")).isEqualTo(1);
        String message = err.toString(StandardCharsets.UTF_8);
        assertThat(message).startsWith("flexmoe: backend 'nope' is not installed");
        assertThat(message.strip().lines()).hasSize(1);
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertThat(FlexMoeCli.run("quickstart", "--frobnicate")).isNotZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unknown option: '--frobnicate'");
    }
}
