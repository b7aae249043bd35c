package flexmoe.moe.train;

import flexmoe.kernels.AdamWKernels;
import flexmoe.kernels.TrainingOps;
import flexmoe.moe.model.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW over a fixed list of trainable tensors (PyTorch's order of operations, {@link TrainingOps#adamwStep}),
 * with first and second moments held per tensor. Frozen tensors are not in the list at all, so no update, not
 * even a weight decay, can touch them (FlexOlmo's guarantee that the public model stays bit-identical).
 */
public final class AdamW {

    private final TrainingOps ops;
    private final AdamWConfig config;
    private final List<Tensor> tensors;
    private final List<float[]> m = new ArrayList<>();
    private final List<float[]> v = new ArrayList<>();
    private final float[] hyperDecay = new float[AdamWKernels.HYPER_SIZE];
    private final float[] hyperNoDecay = new float[AdamWKernels.HYPER_SIZE];
    private final float[] hyperRouter = new float[AdamWKernels.HYPER_SIZE];
    private final float[] hyperBias = new float[AdamWKernels.HYPER_SIZE];
    private long step;

    /** An optimizer for {@code tensors}, which must all be trainable; moments start at 0. */
    public AdamW(TrainingOps ops, AdamWConfig config, List<Tensor> tensors) {
        this.ops = ops;
        this.config = config;
        this.tensors = List.copyOf(tensors);
        for (Tensor t : this.tensors) {
            if (!t.trainable()) {
                throw new IllegalArgumentException("AdamW: tensor " + t.name() + " is frozen (no gradient buffer)");
            }
            m.add(new float[t.size()]);
            v.add(new float[t.size()]);
        }
    }

    /** The tensors this optimizer updates, in order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** Updates taken so far. */
    public long step() {
        return step;
    }

    /** One update of every tensor from its current gradient, at learning rate {@code lr}. */
    public void update(double lr) {
        step++;
        TrainingOps.adamwHyper(hyperDecay, lr, config.beta1(), config.beta2(), config.eps(), config.weightDecay(),
                step);
        TrainingOps.adamwHyper(hyperNoDecay, lr, config.beta1(), config.beta2(), config.eps(), 0, step);
        double routerLr = lr * config.routerLrScale();
        TrainingOps.adamwHyper(hyperRouter, routerLr, config.beta1(), config.beta2(), config.eps(),
                config.weightDecay(), step);
        TrainingOps.adamwHyper(hyperBias, routerLr, config.beta1(), config.beta2(), config.eps(), 0, step);
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t.grad() == null) {
                throw new IllegalStateException("AdamW: tensor " + t.name() + " was frozen after the optimizer was made");
            }
            ops.adamwStep(t.data(), t.grad(), m.get(i), v.get(i), 0, t.size(), hyper(t));
        }
    }

    /** The step's settings for tensor t: router rows and biases at the router rate; only matrices and rows decay. */
    private float[] hyper(Tensor t) {
        return switch (t.kind()) {
            case ROUTER -> hyperRouter;
            case BIAS -> hyperBias;
            default -> decays(t) ? hyperDecay : hyperNoDecay;
        };
    }

    /** Weight matrices and router rows decay; embedding, norms and biases do not. */
    static boolean decays(Tensor t) {
        return t.kind() == Tensor.Kind.LINEAR || t.kind() == Tensor.Kind.ROUTER;
    }

    /** First moment of tensor i (for checkpoints and tests; live). */
    public float[] firstMoment(int i) {
        return m.get(i);
    }

    /** Second moment of tensor i (for checkpoints and tests; live). */
    public float[] secondMoment(int i) {
        return v.get(i);
    }

    /**
     * Continues from a checkpoint: {@code step} updates taken, moments copied from {@code firstMoments} and
     * {@code secondMoments} (one array per tensor, in {@link #tensors()} order, of the tensor's size).
     */
    public void restore(long step, List<float[]> firstMoments, List<float[]> secondMoments) {
        if (step < 0) {
            throw new IllegalArgumentException("AdamW.restore: step must be non-negative, got " + step);
        }
        if (firstMoments.size() != tensors.size() || secondMoments.size() != tensors.size()) {
            throw new IllegalArgumentException("AdamW.restore: " + firstMoments.size() + " / " + secondMoments.size()
                    + " moments for " + tensors.size() + " tensors");
        }
        for (int i = 0; i < tensors.size(); i++) {
            if (firstMoments.get(i).length != m.get(i).length || secondMoments.get(i).length != v.get(i).length) {
                throw new IllegalArgumentException("AdamW.restore: moments of " + tensors.get(i).name() + " have "
                        + firstMoments.get(i).length + " / " + secondMoments.get(i).length + " values, expected "
                        + m.get(i).length);
            }
        }
        for (int i = 0; i < tensors.size(); i++) {
            System.arraycopy(firstMoments.get(i), 0, m.get(i), 0, m.get(i).length);
            System.arraycopy(secondMoments.get(i), 0, v.get(i), 0, v.get(i).length);
        }
        this.step = step;
    }
}
