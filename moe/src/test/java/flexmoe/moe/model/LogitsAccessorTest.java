package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import org.junit.jupiter.api.Test;

/** {@link FlexOlmoModel#logits()}: the LM-head output of the last forward, refused once the backward reused it. */
class LogitsAccessorTest {

    @Test
    void logitsAreTheLastForwardsAndGoneAfterBackward() {
        try (Backend backend = Backends.create("jvm", 1)) {
            ModelConfig c = ModelConfig.preset("tiny");
            Parameters p = Parameters.init(c, 3);
            FlexOlmoModel model = new FlexOlmoModel(p, backend);
            assertThatThrownBy(model::logits).hasMessage("logits: no forward has run yet");

            TokenBatch batch = ModelTesting.randomBatch(c, 2, 8, 3);
            model.forward(ModelTesting.withoutTargets(batch));
            float[] withoutTargets = model.logits();
            Loss loss = model.forward(batch);
            float[] logits = model.logits();
            ModelTesting.assertBitsEqual("logits", logits, withoutTargets);

            // they are the logits the loss was computed from: mean cross-entropy over the valid targets, in double
            int v = c.vocabSize();
            double sum = 0;
            int n = 0;
            for (int t = 0; t < batch.tokens(); t++) {
                int target = batch.targets()[t];
                if (target == TokenBatch.IGNORE) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) {
                    max = Math.max(max, logits[t * v + j]);
                }
                double z = 0;
                for (int j = 0; j < v; j++) {
                    z += Math.exp(logits[t * v + j] - max);
                }
                sum += max + Math.log(z) - logits[t * v + target];
                n++;
            }
            assertThat(loss.crossEntropy()).isCloseTo(sum / n, within(1e-5 * loss.crossEntropy()));

            p.trainAll();
            model.backward();
            assertThatThrownBy(model::logits).hasMessageContaining("the backward has overwritten them");
        }
    }
}
