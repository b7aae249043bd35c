package flexmoe.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends by name. Asking for one that is absent or unavailable is an error, never a fallback. */
public final class Backends {

    /** The backend that is always present. */
    public static final String DEFAULT = "jvm";

    private Backends() {
    }

    /** Creates the named backend with the given worker thread count. */
    public static Backend create(String name, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: expected at least 1, got " + threads);
        }
        List<String> names = new ArrayList<>();
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class)) {
            if (provider.name().equals(name)) {
                String reason = provider.unavailableReason();
                if (reason != null) {
                    throw new IllegalArgumentException("backend '" + name + "' is not available: " + reason);
                }
                return provider.create(threads);
            }
            names.add(provider.name());
        }
        throw new IllegalArgumentException(
                "backend '" + name + "' is not installed (installed: " + String.join(", ", names) + ")");
    }

    /** Creates the named backend using every available core. */
    public static Backend create(String name) {
        return create(name, Runtime.getRuntime().availableProcessors());
    }

    /** Names of the installed backends that can be created here. */
    public static List<String> available() {
        List<String> names = new ArrayList<>();
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class)) {
            if (provider.unavailableReason() == null) {
                names.add(provider.name());
            }
        }
        return names;
    }
}
