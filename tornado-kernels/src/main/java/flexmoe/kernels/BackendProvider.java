package flexmoe.kernels;

/**
 * Service-provider interface for backends, registered in {@code META-INF/services}. A provider may be on
 * the class path yet unavailable (e.g. TornadoVM jars without a runtime); it then says why.
 */
public interface BackendProvider {

    /** The name users select the backend by. */
    String name();

    /** Null when the backend can be created here, else a one-line reason it cannot. */
    String unavailableReason();

    /**
     * Creates the backend.
     *
     * @param threads worker threads, at least 1
     */
    Backend create(int threads);
}
