package flexmoe.kernels.jvm;

import flexmoe.kernels.Backend;
import flexmoe.kernels.BackendProvider;

/** Registers the JVM backend; it is available wherever the Vector API module is present. */
public final class JvmBackendProvider implements BackendProvider {

    public static final String NAME = "jvm";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String unavailableReason() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                ? null
                : "the JVM was started without --add-modules jdk.incubator.vector";
    }

    @Override
    public Backend create(int threads) {
        return new JvmBackend(threads, true);
    }
}
