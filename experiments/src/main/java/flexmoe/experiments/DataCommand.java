package flexmoe.experiments;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flexmoe data ...}: corpora in, training sequences out. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Work with corpora: build FlexMix-mini, inspect a corpus, pack it into training sequences.",
        subcommands = {FlexMixMiniCommand.class, DataInspectCommand.class, DataPackCommand.class})
final class DataCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        new CommandLine(spec).usage(System.out);
        return 0;
    }
}
