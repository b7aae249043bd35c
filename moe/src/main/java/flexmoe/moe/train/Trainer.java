package flexmoe.moe.train;

import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.Loss;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.model.TokenBatch;
import java.util.List;

/**
 * One training step: zero the gradients, forward and backward, clip the global gradient norm of the trainable
 * tensors, AdamW at the scheduled rate. What trains is whatever is trainable in the model's parameters when
 * the trainer is made (all of it for the public model; one expert for FlexOlmo's expert training).
 */
public final class Trainer {

    /** What one step did: its number (1-based), the loss parts, the gradient norm before clipping, the rate. */
    public record StepResult(long step, Loss loss, double gradNorm, double lr) {
    }

    private final FlexOlmoModel model;
    private final AdamWConfig config;
    private final LrSchedule schedule;
    private final AdamW optimizer;
    private final List<Tensor> trainable;
    private final float[][] grads;

    public Trainer(FlexOlmoModel model, AdamWConfig config, LrSchedule schedule) {
        this.model = model;
        this.config = config;
        this.schedule = schedule;
        Parameters params = model.parameters();
        this.trainable = params.trainable();
        if (trainable.isEmpty()) {
            throw new IllegalArgumentException("Trainer: no trainable tensors (call Parameters.trainAll or"
                    + " trainOnlyExpert first)");
        }
        this.optimizer = new AdamW(model.backend().training(), config, trainable);
        this.grads = new float[trainable.size()][];
        for (int i = 0; i < grads.length; i++) {
            grads[i] = trainable.get(i).grad();
        }
    }

    /** zero grads -> forward/backward -> clip to maxGradNorm -> AdamW. */
    public StepResult step(TokenBatch batch) {
        if (batch.targets() == null) {
            throw new IllegalArgumentException("Trainer.step: the batch has no targets");
        }
        if (model.parameters().trainable().size() != trainable.size()) {
            throw new IllegalStateException("Trainer.step: the trainable set changed since the trainer was made ("
                    + trainable.size() + " tensors, now " + model.parameters().trainable().size()
                    + "); make a new trainer");
        }
        for (int i = 0; i < grads.length; i++) {
            if (trainable.get(i).grad() != grads[i]) {
                throw new IllegalStateException("Trainer.step: the trainable set changed (" + trainable.get(i).name()
                        + "); make a new trainer");
            }
            trainable.get(i).zeroGrad();
        }
        Loss loss = model.forwardBackward(batch);
        double norm = model.backend().training().clipGradNorm(grads, config.maxGradNorm());
        double lr = schedule.lr(optimizer.step() + 1);
        optimizer.update(lr);
        return new StepResult(optimizer.step(), loss, norm, lr);
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public FlexOlmoModel model() {
        return model;
    }
}
