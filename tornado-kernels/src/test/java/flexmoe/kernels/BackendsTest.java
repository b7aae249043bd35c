package flexmoe.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BackendsTest {

    @Test
    void jvmBackendIsAlwaysAvailable() {
        assertThat(Backends.available()).contains("jvm");
        try (Backend backend = Backends.create("jvm", 2)) {
            assertThat(backend.name()).isEqualTo("jvm");
            assertThat(backend.threads()).isEqualTo(2);
            assertThat(backend.device()).contains("2 thread(s)");
        }
    }

    @Test
    void unknownBackendIsAClearErrorNotAFallback() {
        assertThatThrownBy(() -> Backends.create("cuda-magic", 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backend 'cuda-magic' is not installed")
                .hasMessageContaining("jvm");
    }

    @Test
    void threadCountMustBePositive() {
        assertThatThrownBy(() -> Backends.create("jvm", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("threads");
    }
}
