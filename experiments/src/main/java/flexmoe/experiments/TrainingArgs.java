package flexmoe.experiments;

import flexmoe.kernels.Backend;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.data.Packer;
import flexmoe.moe.data.Split;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.SequenceLoader;
import flexmoe.moe.train.TrainingRun;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every training command shares: data, steps, optimiser schedule, checkpoints, backend. */
final class TrainingArgs {

    @Option(names = "--packed", required = true, paramLabel = "DIR",
            description = "Directory of packed training sequences (flexmoe data pack): <domain>.train.bin is read.")
    Path packed;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "200",
            description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8",
            description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate (default: the command's).")
    Double lr;

    @Option(names = "--warmup", paramLabel = "N", description = "Linear warm-up steps (default: 10%% of --steps).")
    Long warmup;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the initialisation and the data order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Checkpoint file, written atomically (default: the output file + .ckpt).")
    Path checkpoint;

    @Option(names = "--checkpoint-every", paramLabel = "K", defaultValue = "100",
            description = "Write the checkpoint every K steps, and always at the end (default: ${DEFAULT-VALUE}).")
    long checkpointEvery;

    @Option(names = "--resume", paramLabel = "CKPT",
            description = "Continue the run from this checkpoint (same settings): the result has the same bits as an"
                    + " uninterrupted run.")
    Path resume;

    @Option(names = "--stop-after", paramLabel = "N",
            description = "Stop after step N with a checkpoint and no output file; continue later with --resume (a long"
                    + " run split over sessions).")
    Long stopAfter;

    @Option(names = "--progress-seconds", paramLabel = "S", defaultValue = "5",
            description = "Seconds between progress lines on stderr (default: ${DEFAULT-VALUE}).")
    double progressSeconds;

    @Mixin
    BackendArgs backendArgs = new BackendArgs();

    Backend backend() {
        return backendArgs.create();
    }

    /** The domain's packed train split, checked against the tokenizer. */
    PackedSequences load(String domain, int vocabSize, TokenizerFingerprint tokenizer) {
        Path file = packed.resolve(Packer.fileName(domain, Split.TRAIN));
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--packed " + packed + ": no " + file.getFileName() + " for domain '"
                    + domain + "' (pack it with flexmoe data pack)");
        }
        return PackedSequences.load(file, vocabSize, tokenizer);
    }

    /** Warm-up then cosine to 0.1x of {@code defaultLr} (or --lr). */
    LrSchedule schedule(double defaultLr) {
        long w = warmup != null ? warmup : steps / 10;
        if (w < 0 || w > steps) {
            throw new IllegalArgumentException("--warmup: must be in [0, --steps = " + steps + "], got " + w);
        }
        return LrSchedule.cosine(lr != null ? lr : defaultLr, w, steps);
    }

    /**
     * Trains the model's trainable tensors (resuming when --resume is given) and prints a summary line on
     * {@code out}; the checkpoint goes next to {@code output} unless --checkpoint names it. Returns null when
     * --stop-after stopped the run before its end (the checkpoint holds it; nothing else is to be written).
     */
    TrainingRun.Summary train(FlexOlmoModel model, AdamWConfig adamw, LrSchedule schedule, PackedSequences data,
                              Path output, PrintStream out, PrintStream err) {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch: must be at least 1, got " + batch);
        }
        Path ckpt = checkpoint != null ? checkpoint : output.resolveSibling(output.getFileName() + ".ckpt");
        TrainingRun run = new TrainingRun(model, adamw, schedule, new SequenceLoader(data, batch, seed),
                new TrainingRun.Options(steps, checkpointEvery, ckpt, err, progressSeconds));
        if (resume != null) {
            run.resume(resume);
            err.println("flexmoe: resumed from " + resume + " at step " + run.step());
        }
        if (stopAfter != null && stopAfter < steps) {
            if (stopAfter < 1) {
                throw new IllegalArgumentException("--stop-after: must be at least 1, got " + stopAfter);
            }
            run.runUntil(stopAfter);
            run.save(ckpt);
            out.println("stopped after step " + run.step() + " of " + steps + "; continue with --resume " + ckpt);
            return null;
        }
        TrainingRun.Summary s = run.run();
        out.printf(Locale.ROOT, "trained %d steps, %,d tokens (%,.0f tokens/s), final loss %.4f; checkpoint %s%n",
                s.steps(), s.tokensSeen(), s.tokensPerSecond(), s.lastLoss(), ckpt);
        return s;
    }
}
