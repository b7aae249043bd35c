package flexmoe.moe.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.artifact.ArtifactFormatException;
import flexmoe.moe.data.PackedSequences;
import flexmoe.moe.expert.CoordinatedTraining;
import flexmoe.moe.expert.ExpertBias;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checkpoints and resume: a run stopped anywhere and resumed gives the bits of a run never stopped. */
class TrainingRunTest {

    private static final int STEPS = 8;
    private static final int CHECKPOINT_EVERY = 2;
    private static final int BATCH = 3;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    private static Backend backend;
    private static PackedSequences data;
    /** The uninterrupted run's final checkpoint. */
    private static byte[] reference;

    @BeforeAll
    static void setUp() throws IOException {
        backend = Backends.create("jvm", 2);
        // 10 sequences, batch 3: batches cross epoch ends and checkpoints fall mid-epoch.
        data = SequenceLoaderTest.pack(shared.resolve("d.bin"), 10, 16, 64, 11);
        Path ckpt = shared.resolve("reference.ckpt");
        TrainingRun run = denseRun(ckpt, null);
        TrainingRun.Summary s = run.run();
        assertThat(s.steps()).isEqualTo(STEPS);
        assertThat(s.tokensSeen()).isEqualTo((long) STEPS * BATCH * 16);
        assertThat(s.lastLoss()).isFinite();
        reference = Files.readAllBytes(ckpt);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static TrainingRun denseRun(Path checkpoint, PrintStream progress) {
        Parameters p = Parameters.init(ModelConfig.preset("tiny"), 5);
        p.trainAll();
        return new TrainingRun(new FlexOlmoModel(p, backend), AdamWConfig.olmo2(0.1), LrSchedule.cosine(1e-2, 2, STEPS),
                new SequenceLoader(data, BATCH, 3), new TrainingRun.Options(STEPS, CHECKPOINT_EVERY, checkpoint,
                progress, 0));
    }

    /** Killed after step k (checkpoints every 2 steps), resumed from the last checkpoint: the same final bits. */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5, 7})
    void aRunStoppedAfterKStepsAndResumedEqualsAnUninterruptedRun(int k) throws IOException {
        Path ckpt = dir.resolve("run.ckpt");
        TrainingRun first = denseRun(ckpt, null);
        first.runUntil(k);
        assertThat(first.step()).isEqualTo(k);

        TrainingRun resumed = denseRun(ckpt, null);
        resumed.resume(ckpt);
        assertThat(resumed.step()).isEqualTo(k - k % CHECKPOINT_EVERY);
        resumed.run();

        assertThat(Files.readAllBytes(ckpt)).as("checkpoint after resuming at " + k).isEqualTo(reference);
        // And the live state, not only the file: parameters and moments as the uninterrupted run wrote them.
        TrainingRun fromReference = denseRun(null, null);
        Path referenceFile = dir.resolve("reference.ckpt");
        Files.write(referenceFile, reference);
        fromReference.resume(referenceFile);
        assertSameState(resumed, fromReference);
    }

    private static void assertSameState(TrainingRun a, TrainingRun b) {
        var pa = a.trainer().model().parameters().tensors();
        var pb = b.trainer().model().parameters().tensors();
        for (int i = 0; i < pa.size(); i++) {
            assertThat(pa.get(i).data()).as(pa.get(i).name()).containsExactly(pb.get(i).data());
        }
        AdamW oa = a.trainer().optimizer(), ob = b.trainer().optimizer();
        assertThat(oa.step()).isEqualTo(ob.step());
        for (int i = 0; i < oa.tensors().size(); i++) {
            assertThat(oa.firstMoment(i)).containsExactly(ob.firstMoment(i));
            assertThat(oa.secondMoment(i)).containsExactly(ob.secondMoment(i));
        }
    }

    @Test
    void expertTrainingResumesExactlyAndLeavesEveryOtherTensorBitIdentical() throws IOException {
        Parameters publicModel = Parameters.init(ModelConfig.preset("tiny"), 8);
        float[] rPub = new float[32];
        float[] rExpert = new float[32];
        Arrays.fill(rPub, 0.01f);
        Arrays.fill(rExpert, -0.02f);
        Supplier<TrainingRun> make = () -> {
            Parameters p = CoordinatedTraining.upcycle(publicModel, rPub, rExpert, ExpertBias.standard(),
                    ModelConfig.EXPERT_TRAINING_LM_Z_LOSS);
            return new TrainingRun(new FlexOlmoModel(p, backend), AdamWConfig.expertTraining(),
                    LrSchedule.cosine(1e-2, 1, 6), new SequenceLoader(data, 2, 4),
                    new TrainingRun.Options(6, 3, dir.resolve("expert.ckpt"), null, 0));
        };
        TrainingRun whole = make.get();
        whole.run();
        byte[] wholeBytes = Files.readAllBytes(dir.resolve("expert.ckpt"));

        TrainingRun stopped = make.get();
        stopped.runUntil(4);
        TrainingRun resumed = make.get();
        resumed.resume(dir.resolve("expert.ckpt"));
        assertThat(resumed.step()).isEqualTo(3);
        resumed.run();
        assertThat(Files.readAllBytes(dir.resolve("expert.ckpt"))).isEqualTo(wholeBytes);
        assertSameState(resumed, whole);

        Parameters fresh = CoordinatedTraining.upcycle(publicModel, rPub, rExpert, ExpertBias.standard(),
                ModelConfig.EXPERT_TRAINING_LM_Z_LOSS);
        var trained = resumed.trainer().model().parameters();
        int changed = 0;
        for (Tensor t : fresh.tensors()) {
            float[] after = trained.tensor(t.name()).data();
            if (t.trainable()) {
                changed += Arrays.equals(after, t.data()) ? 0 : 1;
            } else {
                assertThat(after).as(t.name()).containsExactly(t.data());
            }
        }
        assertThat(changed).isPositive();
    }

    @Test
    void progressLinesShowStepLossRateNormSpeedAndEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainingRun run = denseRun(null, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        run.runUntil(3);
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).matches("step 1/8  loss \\d+\\.\\d{4} \\(cross-entropy \\d+\\.\\d{4}\\)"
                + "  lr \\d\\.\\d{3}e-\\d+  grad norm \\d+\\.\\d{3}  "
                + "[\\d,]+ tokens/s  ETA \\d+:\\d\\d:\\d\\d");
        assertThat(lines[2]).startsWith("step 3/8  ");
        assertThat(TrainingRun.duration(3725)).isEqualTo("1:02:05");
    }

    @Test
    void aCheckpointOfAnotherRunIsRefusedNamingTheDifference() {
        Path ckpt = dir.resolve("other.ckpt");
        try {
            Files.write(ckpt, reference);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        Parameters p = Parameters.init(ModelConfig.preset("tiny"), 5);
        p.trainAll();
        TrainingRun otherBatch = new TrainingRun(new FlexOlmoModel(p, backend), AdamWConfig.olmo2(0.1),
                LrSchedule.cosine(1e-2, 2, STEPS), new SequenceLoader(data, 2, 3),
                new TrainingRun.Options(STEPS, CHECKPOINT_EVERY, null, null, 0));
        assertThatThrownBy(() -> otherBatch.resume(ckpt)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ckpt + ": checkpoint of another run: its batch is 3, this run's is 2");

        Parameters moe = Parameters.init(ModelConfig.preset("tiny").withExperts(2, 1), 5);
        moe.trainAll();
        TrainingRun otherConfig = new TrainingRun(new FlexOlmoModel(moe, backend), AdamWConfig.olmo2(0.1),
                LrSchedule.cosine(1e-2, 2, STEPS), new SequenceLoader(data, BATCH, 3),
                new TrainingRun.Options(STEPS, CHECKPOINT_EVERY, null, null, 0));
        assertThatThrownBy(() -> otherConfig.resume(ckpt)).hasMessageStartingWith(ckpt
                + ": checkpoint of another run: its config is {").hasMessageNotContaining("\n");
    }

    @Test
    void aCorruptOrForeignCheckpointIsRefusedWithOneLine() throws IOException {
        Path truncated = dir.resolve("truncated.ckpt");
        Files.write(truncated, Arrays.copyOf(reference, reference.length - 5));
        TrainingRun run = denseRun(null, null);
        assertThatThrownBy(() -> run.resume(truncated)).isInstanceOf(ArtifactFormatException.class)
                .hasMessageStartingWith(truncated.toString()).hasMessageNotContaining("\n");

        Path flipped = dir.resolve("flipped.ckpt");
        byte[] bad = reference.clone();
        bad[bad.length - 2] ^= (byte) 0x7f; // a value in the data section: becomes NaN/inf or just another value
        bad[20] ^= 0x01; // and a header byte
        Files.write(flipped, bad);
        assertThatThrownBy(() -> run.resume(flipped)).hasMessageStartingWith(flipped.toString())
                .hasMessageNotContaining("\n");

        Path notCheckpoint = dir.resolve("model.safetensors");
        flexmoe.moe.artifact.SafeTensors.write(notCheckpoint, Parameters.init(ModelConfig.preset("tiny"), 5)
                .huggingFaceTensors(), java.util.Map.of());
        assertThatThrownBy(() -> run.resume(notCheckpoint))
                .hasMessage(notCheckpoint + ": not a flexmoe training checkpoint (no \"flexmoe.checkpoint\" metadata)");
        assertThat(run.step()).isZero();
    }
}
