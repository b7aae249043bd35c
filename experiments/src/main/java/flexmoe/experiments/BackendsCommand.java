package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Lists the backends that can run here and the device each one drives. */
@Command(name = "backends", mixinStandardHelpOptions = true, description = "List the available compute backends.")
final class BackendsCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        for (String name : Backends.available()) {
            try (Backend backend = Backends.create(name)) {
                System.out.println(name + "\t" + backend.device());
            }
        }
        return 0;
    }
}
