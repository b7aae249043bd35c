package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import picocli.CommandLine.Option;

/** Where a command computes: {@code --backend NAME} and {@code --threads N} (shared by every command that computes). */
final class BackendArgs {

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = Backends.DEFAULT,
            description = "Compute backend (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    /** The thread count asked for, or every core. */
    int threads() {
        return threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    }

    Backend create() {
        return Backends.create(name, threads());
    }
}
