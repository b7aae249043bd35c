package flexmoe.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class FlexMoeCliTest {

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void listsTheJvmBackend() {
        assertThat(FlexMoeCli.run("backends")).isZero();
        assertThat(console.out()).startsWith("jvm\t");
    }

    @Test
    void unknownBackendIsAOneLineErrorAndNonZeroExit() {
        assertThat(FlexMoeCli.run("selfcheck", "--backend", "nope")).isEqualTo(1);
        String message = console.err();
        assertThat(message).startsWith("flexmoe: backend 'nope' is not installed");
        assertThat(message.strip().lines()).hasSize(1);
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertThat(FlexMoeCli.run("selfcheck", "--frobnicate")).isNotZero();
        assertThat(console.err()).contains("Unknown option: '--frobnicate'");
    }
}
