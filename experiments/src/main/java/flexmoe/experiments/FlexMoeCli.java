package flexmoe.experiments;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code flexmoe} command: one subcommand per job. */
@Command(name = "flexmoe", mixinStandardHelpOptions = true, version = "flexmoe 0.1.0",
        description = "FlexOlmo-style modular language models with differential privacy.",
        subcommands = {QuickstartCommand.class, SelfcheckCommand.class, BackendsCommand.class, DataCommand.class, TokenizerCommand.class,
                InspectCommand.class, ComposeCommand.class, RoutingCommand.class, GenerateCommand.class, EvalCommand.class,
                LogitsCommand.class, PretrainCommand.class, TrainExpertCommand.class, TrainDenseCommand.class,
                TuneRouterCommand.class})
public final class FlexMoeCli implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code; errors become one line on stderr and a non-zero code. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new FlexMoeCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("flexmoe: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        });
        return cli.execute(args);
    }
}
