package flexmoe.kernels.jvm;

import flexmoe.kernels.Backend;
import flexmoe.kernels.BackendProvider;

/**
 * Registers the {@code reference} backend: the plain kernel bodies on the JVM, without the Vector API
 * versions. Slow; it is the specification that the other backends are compared with
 * ({@code flexmoe quickstart --backend X} checks X against it).
 */
public final class ReferenceBackendProvider implements BackendProvider {

    public static final String NAME = "reference";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public Backend create(int threads) {
        return new JvmBackend(threads, false);
    }
}
