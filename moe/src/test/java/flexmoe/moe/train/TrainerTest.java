package flexmoe.moe.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.model.TokenBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TrainerTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    static TokenBatch batch(ModelConfig c, int b, int s, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] tokens = new int[b * s + 1];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(c.vocabSize());
        }
        int[] inputs = java.util.Arrays.copyOf(tokens, b * s);
        int[] targets = java.util.Arrays.copyOfRange(tokens, 1, b * s + 1);
        return new TokenBatch(inputs, targets, b, s);
    }

    @Test
    void tinyDenseModelOverfitsOneBatch() {
        overfit(ModelConfig.preset("tiny"), 1);
    }

    @Test
    void tinyMoeModelOverfitsOneBatch() {
        overfit(ModelConfig.preset("tiny").withExperts(3, 2), 2);
    }

    private static void overfit(ModelConfig c, long seed) {
        Parameters p = Parameters.init(c, seed);
        p.trainAll();
        Trainer trainer = new Trainer(new FlexOlmoModel(p, backend), AdamWConfig.olmo2(0.01),
                LrSchedule.cosine(1e-2, 5, 60));
        TokenBatch batch = batch(c, 2, 16, seed);
        Trainer.StepResult first = trainer.step(batch);
        Trainer.StepResult last = first;
        for (int i = 1; i < 60; i++) {
            last = trainer.step(batch);
            assertThat(last.loss().total()).isFinite();
        }
        System.out.printf("overfit %d experts: cross-entropy %.3f -> %.3f in 60 steps%n", c.experts(),
                first.loss().crossEntropy(), last.loss().crossEntropy());
        assertThat(first.step()).isEqualTo(1);
        assertThat(last.step()).isEqualTo(60);
        assertThat(first.lr()).isEqualTo(2e-3);
        assertThat(first.gradNorm()).isPositive();
        // ln 64 = 4.16 at the start; memorising 32 tokens takes it well under a quarter of that.
        assertThat(first.loss().crossEntropy()).isBetween(3.9, 4.5);
        assertThat(last.loss().crossEntropy()).as("after 60 steps").isLessThan(0.25 * first.loss().crossEntropy());
    }

    /** FlexOlmo's guarantee: training one expert leaves every frozen tensor bit-identical. */
    @Test
    void frozenTensorsStayBitIdenticalDuringExpertTraining() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(2, 2).withZLoss(1e-3, 1e-5);
        Parameters p = Parameters.init(c, 3);
        for (int l = 0; l < c.layers(); l++) {
            p.expert(l, 1).bias().data()[0] = -0.05f;
        }
        p.trainOnlyExpert(1);
        List<Tensor> frozen = new ArrayList<>();
        List<float[]> before = new ArrayList<>();
        List<float[]> trainedBefore = new ArrayList<>();
        for (Tensor t : p.tensors()) {
            if (t.trainable()) {
                trainedBefore.add(t.data().clone());
            } else {
                frozen.add(t);
                before.add(t.data().clone());
            }
        }
        assertThat(frozen).hasSize(p.tensors().size() - 4 * c.layers());
        Trainer trainer = new Trainer(new FlexOlmoModel(p, backend), AdamWConfig.expertTraining(),
                LrSchedule.cosine(1e-2, 2, 20));
        double firstLoss = 0, lastLoss = 0;
        for (int i = 0; i < 20; i++) {
            double loss = trainer.step(batch(c, 2, 16, 100 + i % 4)).loss().total();
            firstLoss = i == 0 ? loss : firstLoss;
            lastLoss = loss;
        }
        assertThat(lastLoss).isLessThan(firstLoss);
        for (int i = 0; i < frozen.size(); i++) {
            assertThat(Float.floatToRawIntBits(frozen.get(i).data()[0])).isEqualTo(Float.floatToRawIntBits(before.get(i)[0]));
            assertThat(frozen.get(i).data()).as(frozen.get(i).name()).isEqualTo(before.get(i));
        }
        int changed = 0;
        for (Tensor t : p.trainable()) {
            changed += java.util.Arrays.equals(t.data(), trainedBefore.get(changed)) ? 0 : 1;
        }
        assertThat(changed).as("every trained tensor moved (FFN, router row, bias in each layer)").isEqualTo(4 * c.layers());
    }

    @Test
    void weightDecayAppliesToMatricesOnly() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(2, 2);
        Parameters p = Parameters.init(c, 4);
        p.trainAll();
        for (Tensor t : p.tensors()) {
            if (t.kind() == Tensor.Kind.BIAS) {
                t.data()[0] = -0.5f;
            }
        }
        List<float[]> before = new ArrayList<>();
        for (Tensor t : p.tensors()) {
            before.add(t.data().clone());
        }
        AdamW adamw = new AdamW(backend.training(), AdamWConfig.olmo2(0.1), p.trainable());
        adamw.update(0.5); // zero gradients: only the decay moves anything
        for (int i = 0; i < p.tensors().size(); i++) {
            Tensor t = p.tensors().get(i);
            float x = before.get(i)[0];
            float expected = AdamW.decays(t) ? x * (1 - 0.05f) : x;
            assertThat(t.data()[0]).as(t.name()).isEqualTo(expected);
        }
        assertThat(AdamW.decays(p.embedding())).isFalse();
        assertThat(AdamW.decays(p.lmHead())).isTrue();
    }

    @Test
    void trainerRefusesWhatItCannotTrain() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 5);
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        assertThatThrownBy(() -> new Trainer(model, AdamWConfig.expertTraining(), LrSchedule.constant(1e-3)))
                .hasMessage("Trainer: no trainable tensors (call Parameters.trainAll or trainOnlyExpert first)");
        p.setTrainable(t -> t == p.lmHead());
        Trainer trainer = new Trainer(model, AdamWConfig.expertTraining(), LrSchedule.constant(1e-3));
        TokenBatch b = batch(c, 1, 8, 5);
        trainer.step(b);
        p.trainAll();
        assertThatThrownBy(() -> trainer.step(b)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the trainable set changed");
        assertThatThrownBy(() -> trainer.step(new TokenBatch(b.inputs(), null, 1, 8)))
                .hasMessage("Trainer.step: the batch has no targets");
    }

    @Test
    void clippingBoundsTheUpdateAndReportsTheNormBeforeIt() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters p = Parameters.init(c, 6);
        p.trainAll();
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        TokenBatch b = batch(c, 2, 16, 6);
        model.forwardBackward(b);
        double norm = 0;
        for (Tensor t : p.trainable()) {
            for (float g : t.grad()) {
                norm += (double) g * g;
            }
        }
        norm = Math.sqrt(norm);
        Trainer trainer = new Trainer(model, new AdamWConfig(0.9, 0.95, 1e-8, 0, norm / 4), LrSchedule.constant(0));
        Trainer.StepResult r = trainer.step(b);
        assertThat(r.gradNorm()).isCloseTo(norm, org.assertj.core.api.Assertions.within(1e-5 * norm));
        double after = 0;
        for (Tensor t : p.trainable()) {
            for (float g : t.grad()) {
                after += (double) g * g;
            }
        }
        assertThat(Math.sqrt(after)).isCloseTo(norm / 4, org.assertj.core.api.Assertions.within(1e-4 * norm));
    }
}
