package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.InferenceSession;
import flexmoe.moe.generate.TestModels;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.Loss;
import flexmoe.moe.model.ModelTesting;
import flexmoe.moe.model.Parameters;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogitsTest {

    @TempDir
    Path dir;

    @Test
    void writesTheModelsLogitsAsATByVNpy() {
        try (Backend backend = Backends.create("jvm", 2)) {
            Parameters p = TestModels.tinyMoe(1);
            int[] ids = TestModels.tokens(64, 9, 2);
            Path file = dir.resolve("logits.npy");
            float[] logits = Logits.write(file, p, backend, ids);
            Npy.Array back = Npy.read(file);
            assertThat(back.shape()).containsExactly(9, 64);
            ModelTesting.assertBitsEqual("file", back.data(), logits);
            ModelTesting.assertBitsEqual("prefill", logits,
                    Arrays.copyOf(new InferenceSession(p, backend, 1, 9).forward(ids, 9), 9 * 64));
            // Row t predicts ids[t + 1]: its cross-entropy is the training forward's loss at t.
            FlexOlmoModel model = new FlexOlmoModel(p, backend);
            int[] targets = new int[9];
            float[] loss = new float[9];
            Arrays.fill(targets, -1);
            for (int t = 0; t < 8; t++) {
                int[] one = targets.clone();
                one[t] = ids[t + 1];
                Loss l = model.forward(ids, one, 1, 9);
                backend.training().crossEntropyForward(logits, one, 9, 64, 0f, loss, new float[9]);
                assertThat((float) l.crossEntropy()).isEqualTo(loss[t]);
            }
        }
    }

    @Test
    void tooManyOrNoIdsAreRefused() {
        try (Backend backend = Backends.create("jvm", 1)) {
            Parameters p = TestModels.tinyDense(3);
            assertThatThrownBy(() -> Logits.compute(p, backend, new int[0]))
                    .hasMessage("logits: need 1 to maxSeqLen = 16 token ids, got 0");
            assertThatThrownBy(() -> Logits.compute(p, backend, new int[17]))
                    .hasMessage("logits: need 1 to maxSeqLen = 16 token ids, got 17");
        }
    }
}
