package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Same seed, same bits; and the JVM backend gives the same loss and gradient bits on 1 and 2 threads. */
class DeterminismTest {

    /**
     * Big enough that the kernels cut their work into several chunks: T = 512 tokens, D = 128, V = 1024 (the
     * LM-head GEMMs are 134 MFLOP each, above the Vector API GEMM's 2 x 32 MFLOP split threshold).
     */
    private static final ModelConfig MID = new ModelConfig(1024, 128, 2, 4, 256, 128, 500_000, 1e-6, 3, 2, 1e-3,
            1e-5, 0.02);

    @Test
    void sameSeedSameParametersAndLoss() {
        ModelConfig c = ModelConfig.preset("tiny").withExperts(3, 2);
        Parameters a = Parameters.init(c, 5);
        Parameters b = Parameters.init(c, 5);
        Parameters other = Parameters.init(c, 6);
        for (int i = 0; i < a.tensors().size(); i++) {
            ModelTesting.assertBitsEqual(a.tensors().get(i).name(), b.tensors().get(i).data(),
                    a.tensors().get(i).data());
        }
        assertThat(other.embedding().data()).isNotEqualTo(a.embedding().data());
        try (Backend backend = Backends.create("jvm", 1)) {
            TokenBatch batch = ModelTesting.randomBatch(c, 2, 8, 5);
            double la = new FlexOlmoModel(a, backend).forward(batch).total();
            double lb = new FlexOlmoModel(b, backend).forward(batch).total();
            assertThat(Double.doubleToRawLongBits(lb)).isEqualTo(Double.doubleToRawLongBits(la));
        }
    }

    @Test
    void oneAndTwoThreadsGiveTheSameBitsMoe() {
        compareThreads(MID, 7);
    }

    @Test
    void oneAndTwoThreadsGiveTheSameBitsDense() {
        compareThreads(MID.withExperts(1, 1), 8);
    }

    private static void compareThreads(ModelConfig c, long seed) {
        TokenBatch batch = ModelTesting.randomBatch(c, 4, 128, seed);
        Run one = run(c, seed, batch, 1);
        Run two = run(c, seed, batch, 2);
        assertThat(Double.doubleToRawLongBits(two.loss.total())).isEqualTo(Double.doubleToRawLongBits(one.loss.total()));
        assertThat(two.loss).isEqualTo(one.loss);
        for (int i = 0; i < one.grads.size(); i++) {
            ModelTesting.assertBitsEqual("gradient " + i, two.grads.get(i), one.grads.get(i));
        }
        // The same model run twice in a row (buffers reused) gives the same bits too.
        assertThat(one.repeat).isEqualTo(one.loss);
    }

    private record Run(Loss loss, List<float[]> grads, Loss repeat) {
    }

    private static Run run(ModelConfig c, long seed, TokenBatch batch, int threads) {
        try (Backend backend = Backends.create("jvm", threads)) {
            Parameters p = Parameters.init(c, seed);
            ModelTesting.setBiases(p, seed, -0.2, 0);
            p.trainAll();
            FlexOlmoModel model = new FlexOlmoModel(p, backend);
            Loss loss = model.forwardBackward(batch);
            List<float[]> grads = ModelTesting.grads(p.tensors());
            Loss repeat = model.forward(batch);
            return new Run(loss, grads, repeat);
        }
    }
}
