package flexmoe.experiments;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flexmoe data ...}: building and checking corpora. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Build and check corpora.",
        subcommands = {FlexMixMiniCommand.class})
final class DataCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        new CommandLine(spec).usage(System.out);
        return 0;
    }
}
