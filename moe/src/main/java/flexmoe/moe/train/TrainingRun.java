package flexmoe.moe.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.moe.artifact.ArtifactFormatException;
import flexmoe.moe.artifact.SafeTensors;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.NamedTensor;
import flexmoe.moe.model.Tensor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A training run: {@code steps} steps of {@link Trainer} over a {@link SequenceLoader}, with progress lines and
 * checkpoints, resumable with the same bits as a run that was never interrupted.
 *
 * <p>A checkpoint is one safetensors file ({@link SafeTensors}, written atomically, so a run killed while writing
 * leaves the previous checkpoint intact): every model tensor under {@code model.<name>}, the AdamW moments of the
 * trained tensors under {@code optimizer.exp_avg.<name>} and {@code optimizer.exp_avg_sq.<name>}, and in the
 * metadata key {@value #METADATA_KEY} a JSON object with the step, the loader cursor, the tokens seen and everything
 * that must match for a resume to continue the same run (model config, trained tensors, AdamW settings, schedule,
 * steps, batch, loader seed, the data's shape). Resuming refuses any difference with one line naming it, and refuses
 * a checkpoint whose frozen tensors differ from the model being resumed (e.g. an expert trained against another
 * public model).
 *
 * <p>What makes resume exact: the model's tensors, the moments and the step count are restored bit for bit, the
 * learning rate is a function of the step, the loader's order a function of (seed, epoch), and the kernels are
 * deterministic for a given thread count (the JVM backend whatever the count).
 */
public final class TrainingRun {

    /** The checkpoint's metadata key. */
    public static final String METADATA_KEY = "flexmoe.checkpoint";
    /** Version of the checkpoint layout. */
    public static final int FORMAT_VERSION = 1;

    static final String MODEL_PREFIX = "model.";
    static final String EXP_AVG_PREFIX = "optimizer.exp_avg.";
    static final String EXP_AVG_SQ_PREFIX = "optimizer.exp_avg_sq.";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * How the run proceeds.
     *
     * @param steps             optimizer steps of the whole run
     * @param checkpointEvery   write a checkpoint every this many steps (0: only at the end); always at the end
     * @param checkpoint        the checkpoint file (null: none is written)
     * @param progress          where progress lines go (null: none)
     * @param progressSeconds   at most one progress line per this many seconds (the first and last step always print)
     */
    public record Options(long steps, long checkpointEvery, Path checkpoint, PrintStream progress,
                          double progressSeconds) {
        public Options {
            if (steps < 1) {
                throw new IllegalArgumentException("--steps: must be at least 1, got " + steps);
            }
            if (checkpointEvery < 0) {
                throw new IllegalArgumentException("--checkpoint-every: must be non-negative, got " + checkpointEvery);
            }
            if (!(progressSeconds >= 0)) {
                throw new IllegalArgumentException("progress interval: must be non-negative, got " + progressSeconds);
            }
        }
    }

    /** What a run did: steps taken in total, tokens seen in total, the last step's loss, this session's speed. */
    public record Summary(long steps, long tokensSeen, double lastLoss, double seconds, double tokensPerSecond) {
    }

    private final FlexOlmoModel model;
    private final AdamWConfig adamw;
    private final LrSchedule schedule;
    private final SequenceLoader loader;
    private final Options options;
    private final Trainer trainer;
    private double lastLoss = Double.NaN;

    /** A run of the model's trainable tensors (set them before) from its current values. */
    public TrainingRun(FlexOlmoModel model, AdamWConfig adamw, LrSchedule schedule, SequenceLoader loader,
                       Options options) {
        if (loader.data().seqLen() > model.config().maxSeqLen()) {
            throw new IllegalArgumentException(loader.data().file() + ": sequences of " + loader.data().seqLen()
                    + " tokens are longer than the model's context of " + model.config().maxSeqLen());
        }
        if (loader.data().vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException(loader.data().file() + ": packed for a vocabulary of "
                    + loader.data().vocabSize() + " tokens, the model has " + model.config().vocabSize());
        }
        this.model = model;
        this.adamw = adamw;
        this.schedule = schedule;
        this.loader = loader;
        this.options = options;
        this.trainer = new Trainer(model, adamw, schedule);
    }

    /** Steps taken so far (including those before a resume). */
    public long step() {
        return trainer.optimizer().step();
    }

    /** Training tokens seen so far: steps times B * S. */
    public long tokensSeen() {
        return step() * loader.tokensPerBatch();
    }

    public Trainer trainer() {
        return trainer;
    }

    /** Runs to the last step; writes checkpoints as configured and one at the end. */
    public Summary run() {
        return runUntil(options.steps());
    }

    /**
     * Runs up to step {@code stop} (at most the last); a checkpoint is written only when one is due, so stopping
     * early is what a killed run leaves behind.
     */
    public Summary runUntil(long stop) {
        long last = Math.min(stop, options.steps());
        long start = step();
        long t0 = System.nanoTime();
        long lastPrint = Long.MIN_VALUE;
        while (step() < last) {
            Trainer.StepResult r = trainer.step(loader.next());
            lastLoss = r.loss().total();
            long s = r.step();
            boolean due = s == options.steps() || options.checkpointEvery() > 0 && s % options.checkpointEvery() == 0;
            if (due && options.checkpoint() != null) {
                save(options.checkpoint());
            }
            long now = System.nanoTime();
            if (options.progress() != null && (s == start + 1 || s == last
                    || now - lastPrint >= options.progressSeconds() * 1e9)) {
                lastPrint = now;
                printProgress(r, s - start, (now - t0) / 1e9);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long tokens = (step() - start) * loader.tokensPerBatch();
        return new Summary(step(), tokensSeen(), lastLoss, seconds, seconds > 0 ? tokens / seconds : 0);
    }

    private void printProgress(Trainer.StepResult r, long stepsThisSession, double seconds) {
        double tokensPerSecond = stepsThisSession * loader.tokensPerBatch() / Math.max(seconds, 1e-9);
        double eta = (options.steps() - r.step()) * seconds / stepsThisSession;
        options.progress().printf(Locale.ROOT, "step %d/%d  loss %.4f (cross-entropy %.4f)  lr %.3e  grad norm %.3f"
                + "  %,.0f tokens/s  ETA %s%n", r.step(), options.steps(), r.loss().total(), r.loss().crossEntropy(), r.lr(), r.gradNorm(), tokensPerSecond, duration(eta));
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    // ---- checkpoints ------------------------------------------------------------------------------------

    /** Writes a checkpoint of the run as it is now (atomically). */
    public void save(Path file) {
        List<NamedTensor> tensors = new ArrayList<>();
        for (Tensor t : model.parameters().tensors()) {
            tensors.add(new NamedTensor(MODEL_PREFIX + t.name(), t.shape(), t.data().clone()));
        }
        AdamW opt = trainer.optimizer();
        for (int i = 0; i < opt.tensors().size(); i++) {
            Tensor t = opt.tensors().get(i);
            tensors.add(new NamedTensor(EXP_AVG_PREFIX + t.name(), t.shape(), opt.firstMoment(i).clone()));
            tensors.add(new NamedTensor(EXP_AVG_SQ_PREFIX + t.name(), t.shape(), opt.secondMoment(i).clone()));
        }
        ObjectNode meta = runIdentity();
        meta.put("step", step());
        SequenceLoader.Cursor c = loader.cursor();
        meta.put("epoch", c.epoch());
        meta.put("position", c.position());
        meta.put("tokensSeen", tokensSeen());
        SafeTensors.write(file, tensors, Map.of(METADATA_KEY, meta.toString()));
    }

    /**
     * Continues from a checkpoint written by this run (same identity; see the class comment): restores the model's
     * tensors, the optimizer and the loader.
     *
     * @throws ArtifactFormatException for a damaged file or one that is not a checkpoint
     * @throws IllegalArgumentException for a checkpoint of another run, naming what differs
     */
    public void resume(Path file) {
        SafeTensors.Contents contents = SafeTensors.read(file);
        String json = contents.header().metadata().get(METADATA_KEY);
        if (json == null) {
            throw new ArtifactFormatException(file + ": not a flexmoe training checkpoint (no \"" + METADATA_KEY
                    + "\" metadata)");
        }
        JsonNode meta;
        try {
            meta = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ArtifactFormatException(file + ": checkpoint metadata is not valid JSON");
        }
        if (meta == null || !meta.isObject()) {
            throw new ArtifactFormatException(file + ": checkpoint metadata is not a JSON object");
        }
        JsonNode expected = roundTrip(runIdentity());
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode got = meta.get(e.getKey());
            if (!e.getValue().equals(got)) {
                throw new IllegalArgumentException(file + ": checkpoint of another run: its " + e.getKey() + " is "
                        + (got == null ? "missing" : got) + ", this run's is " + e.getValue());
            }
        }
        long step = longField(file, meta, "step");
        long epoch = longField(file, meta, "epoch");
        long position = longField(file, meta, "position");
        if (step > options.steps() || position > loader.data().sequenceCount()) {
            throw new ArtifactFormatException(file + ": checkpoint step " + step + " / loader position " + position
                    + " out of range");
        }
        Map<String, NamedTensor> byName = new HashMap<>();
        for (NamedTensor t : contents.tensors()) {
            byName.put(t.name(), t);
        }
        List<Tensor> params = model.parameters().tensors();
        AdamW opt = trainer.optimizer();
        int expectedCount = params.size() + 2 * opt.tensors().size();
        if (byName.size() != expectedCount) {
            throw new ArtifactFormatException(file + ": checkpoint holds " + byName.size() + " tensors, expected "
                    + expectedCount);
        }
        // Check everything before changing anything: a refused checkpoint leaves the run as it was.
        for (Tensor t : params) {
            NamedTensor c = take(file, byName, MODEL_PREFIX, t);
            if (!t.trainable() && !Arrays.equals(c.data(), t.data())) {
                throw new IllegalArgumentException(file + ": checkpoint of another starting model: frozen tensor "
                        + t.name() + " differs from this model's");
            }
        }
        List<float[]> m = new ArrayList<>();
        List<float[]> v = new ArrayList<>();
        for (Tensor t : opt.tensors()) {
            m.add(take(file, byName, EXP_AVG_PREFIX, t).data());
            v.add(take(file, byName, EXP_AVG_SQ_PREFIX, t).data());
        }
        for (Tensor t : params) {
            float[] data = byName.get(MODEL_PREFIX + t.name()).data();
            System.arraycopy(data, 0, t.data(), 0, data.length);
        }
        opt.restore(step, m, v);
        loader.restore(new SequenceLoader.Cursor(epoch, (int) position));
    }

    private static NamedTensor take(Path file, Map<String, NamedTensor> byName, String prefix, Tensor t) {
        NamedTensor c = byName.get(prefix + t.name());
        if (c == null) {
            throw new ArtifactFormatException(file + ": checkpoint has no tensor " + prefix + t.name());
        }
        if (!Arrays.equals(c.shape(), t.shape())) {
            throw new ArtifactFormatException(file + ": checkpoint tensor " + prefix + t.name() + " has shape "
                    + Arrays.toString(c.shape()) + ", expected " + Arrays.toString(t.shape()));
        }
        return c;
    }

    private static long longField(Path file, JsonNode meta, String field) {
        JsonNode n = meta.get(field);
        if (n == null || !n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 0) {
            throw new ArtifactFormatException(file + ": checkpoint metadata field " + field
                    + " must be a non-negative integer");
        }
        return n.asLong();
    }

    /** The node as it reads back from its JSON text (so that 5 as a long equals 5 as an int). */
    private static JsonNode roundTrip(ObjectNode node) {
        try {
            return MAPPER.readTree(node.toString());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // our own output always parses
        }
    }

    /** Everything that must be equal for a checkpoint to continue this run. */
    private ObjectNode runIdentity() {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("formatVersion", FORMAT_VERSION);
        o.set("config", MAPPER.valueToTree(model.config()));
        ArrayNode trained = o.putArray("trained");
        for (Tensor t : trainer.optimizer().tensors()) {
            trained.add(t.name());
        }
        o.set("adamw", MAPPER.valueToTree(adamw));
        o.set("schedule", MAPPER.valueToTree(schedule));
        o.put("steps", options.steps());
        o.put("batch", loader.batch());
        o.put("loaderSeed", loader.seed());
        o.put("seqLen", loader.data().seqLen());
        o.put("sequences", loader.data().sequenceCount());
        o.put("tokenizerSha256", loader.data().tokenizer().sha256());
        return o;
    }
}
