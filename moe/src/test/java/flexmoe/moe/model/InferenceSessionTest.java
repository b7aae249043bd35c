package flexmoe.moe.model;

import static flexmoe.moe.model.ModelTesting.assertBitsEqual;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.generate.TestModels;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The KV-cache forward against the training forward, step by step, in batches, and its errors. */
class InferenceSessionTest {

    private static final int SEQ = 12;

    @Test
    void prefillGivesTheTrainingForwardsLogitsBitForBit() {
        // FlexOlmoModel exposes its logits only through the loss: with one target c at position t its
        // cross-entropy is lse_t - logit[t, c], computed by the same kernel. Every (t, c) of the session's
        // logits through that kernel must give the model's loss bits; routing must choose the same experts.
        for (String backendName : new String[] {"reference", "jvm"}) {
            for (Parameters p : new Parameters[] {TestModels.tinyDense(1), TestModels.tinyMoe(2)}) {
                try (Backend backend = Backends.create(backendName, 2)) {
                    ModelConfig c = p.config();
                    int v = c.vocabSize();
                    int[] ids = TestModels.tokens(v, SEQ, 3);
                    InferenceSession session = new InferenceSession(p, backend, 1, SEQ);
                    float[] logits = Arrays.copyOf(session.forward(ids, SEQ), SEQ * v);
                    FlexOlmoModel model = new FlexOlmoModel(p, backend);
                    String what = backendName + (c.isDense() ? " dense" : " moe");
                    float[] sessionLoss = new float[SEQ];
                    float[] lse = new float[SEQ];
                    int[] targets = new int[SEQ];
                    for (int target = 0; target < v; target++) {
                        Arrays.fill(targets, target);
                        backend.training().crossEntropyForward(logits, targets, SEQ, v, 0f, sessionLoss, lse);
                        for (int t = 0; t < SEQ; t++) {
                            Arrays.fill(targets, TokenBatch.IGNORE);
                            targets[t] = target;
                            Loss loss = model.forward(ids, targets.clone(), 1, SEQ);
                            assertThat(Float.floatToRawIntBits((float) loss.crossEntropy()))
                                    .as("%s position %d target %d", what, t, target)
                                    .isEqualTo(Float.floatToRawIntBits(sessionLoss[t]));
                        }
                        Arrays.fill(targets, target);
                    }
                    if (!c.isDense()) {
                        for (int l = 0; l < c.layers(); l++) {
                            assertThat(session.topKIds(l)).as("%s layer %d experts", what, l)
                                    .isEqualTo(model.topKIds(l));
                        }
                    }
                }
            }
        }
    }

    @Test
    void decodingTokenByTokenGivesThePrefillLogitsBitForBitOnTheReferenceBackend() {
        try (Backend backend = Backends.create("reference", 1)) {
            for (Parameters p : new Parameters[] {TestModels.tinyDense(4), TestModels.tinyMoe(5)}) {
                compareSteps(p, backend, 0);
            }
        }
    }

    @Test
    void decodingIsBitIdenticalOnTheJvmBackendWhenNoProductIsSmall() {
        try (Backend backend = Backends.create("jvm", 2)) {
            compareSteps(TestModels.jittered(Parameters.init(TestModels.MID, 6), 6), backend, 0);
            compareSteps(TestModels.jittered(Parameters.init(TestModels.MID.withExperts(3, 2), 7), 7), backend, 0);
        }
    }

    @Test
    void decodingTheTinyModelOnTheJvmBackendAgreesWithinFloatRounding() {
        // One-token products of the tiny model are small enough for the GEMM's plain bodies, while the 12-token
        // prefill takes the Vector API path: the same sums in another order.
        try (Backend backend = Backends.create("jvm", 2)) {
            compareSteps(TestModels.tinyDense(8), backend, 1e-5);
            compareSteps(TestModels.tinyMoe(9), backend, 1e-5);
        }
    }

    /**
     * Prefill of the whole sequence vs a session fed in chunks of 5, 3, then one token at a time: each chunk's
     * logits must equal the prefill's rows (bits when tolerance is 0).
     */
    private static void compareSteps(Parameters p, Backend backend, double tolerance) {
        int v = p.config().vocabSize();
        int[] ids = TestModels.tokens(v, SEQ, 10);
        InferenceSession full = new InferenceSession(p, backend, 1, SEQ);
        float[] expected = Arrays.copyOf(full.forward(ids, SEQ), SEQ * v);
        InferenceSession session = new InferenceSession(p, backend, 1, SEQ);
        int at = 0;
        for (int chunk : new int[] {5, 3, 1, 1, 1, 1}) {
            assertThat(session.length()).isEqualTo(at);
            float[] got = Arrays.copyOf(session.forward(Arrays.copyOfRange(ids, at, at + chunk), chunk), chunk * v);
            float[] want = Arrays.copyOfRange(expected, at * v, (at + chunk) * v);
            String what = (p.config().isDense() ? "dense" : "moe") + " positions " + at + ".." + (at + chunk - 1);
            if (tolerance == 0) {
                assertBitsEqual(what, got, want);
            } else {
                assertThat(TestModels.maxRelativeDiff(got, want)).as(what).isLessThanOrEqualTo(tolerance);
            }
            at += chunk;
        }
        assertThat(at).isEqualTo(SEQ);
    }

    @Test
    void sequencesInABatchAreIndependent() {
        try (Backend backend = Backends.create("reference", 1)) {
            Parameters p = TestModels.tinyMoe(11);
            int v = p.config().vocabSize(), batch = 3, prompt = 4;
            int[][] seqs = new int[batch][];
            for (int b = 0; b < batch; b++) {
                seqs[b] = TestModels.tokens(v, prompt + 3, 20 + b);
            }
            InferenceSession together = new InferenceSession(p, backend, batch, prompt + 3);
            int[] first = new int[batch * prompt];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(seqs[b], 0, first, b * prompt, prompt);
            }
            float[][] batched = new float[prompt + 3][];
            float[] all = together.forward(first, prompt);
            for (int i = 0; i < prompt; i++) {
                batched[i] = rows(all, prompt, i, batch, v);
            }
            for (int step = prompt; step < prompt + 3; step++) {
                int[] next = new int[batch];
                for (int b = 0; b < batch; b++) {
                    next[b] = seqs[b][step];
                }
                batched[step] = rows(together.forward(next, 1), 1, 0, batch, v);
            }
            for (int b = 0; b < batch; b++) {
                InferenceSession alone = new InferenceSession(p, backend, 1, prompt + 3);
                float[] single = alone.forward(seqs[b], prompt + 3);
                for (int i = 0; i < prompt + 3; i++) {
                    assertBitsEqual("sequence " + b + " position " + i,
                            Arrays.copyOfRange(batched[i], b * v, (b + 1) * v),
                            Arrays.copyOfRange(single, i * v, (i + 1) * v));
                }
            }
        }
    }

    /** Row i of each sequence's {@code count} rows, stacked: [batch, V]. */
    private static float[] rows(float[] logits, int count, int i, int batch, int v) {
        float[] r = new float[batch * v];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(logits, (b * count + i) * v, r, b * v, v);
        }
        return r;
    }

    @Test
    void resetStartsOverWithTheSameBits() {
        try (Backend backend = Backends.create("jvm", 1)) {
            Parameters p = TestModels.tinyMoe(12);
            int[] ids = TestModels.tokens(p.config().vocabSize(), 6, 13);
            InferenceSession session = new InferenceSession(p, backend, 1, 8);
            float[] first = session.forward(ids, 6).clone();
            session.reset();
            assertThat(session.length()).isZero();
            assertBitsEqual("after reset", session.forward(ids, 6).clone(), first);
        }
    }

    @Test
    void afterResetDecodeStepsSeeChangedParameters() {
        // Decode steps multiply by transposed copies of the weights; a reset must drop them, so that a session
        // kept across parameter updates (a scorer between training steps) decodes with the new weights.
        try (Backend backend = Backends.create("jvm", 2)) {
            Parameters p = TestModels.tinyMoe(15);
            int[] ids = TestModels.tokens(p.config().vocabSize(), 5, 16);
            InferenceSession session = new InferenceSession(p, backend, 1, 8);
            decodeOneByOne(session, ids);
            for (Tensor t : p.tensors()) {
                float[] data = t.data();
                for (int i = 0; i < data.length; i++) {
                    data[i] *= 1.5f;
                }
            }
            session.reset();
            float[] reused = decodeOneByOne(session, ids);
            float[] fresh = decodeOneByOne(new InferenceSession(p, backend, 1, 8), ids);
            assertBitsEqual("decoded after reset vs a new session", reused, fresh);
        }
    }

    /** The logits of the last of ids fed one token per step. */
    private static float[] decodeOneByOne(InferenceSession session, int[] ids) {
        float[] logits = null;
        for (int id : ids) {
            logits = session.forward(new int[] {id}, 1);
        }
        return java.util.Arrays.copyOf(logits, session.config().vocabSize());
    }

    @Test
    void badInputGivesOneLineErrors() {
        try (Backend backend = Backends.create("jvm", 1)) {
            Parameters p = TestModels.tinyDense(14);
            int maxSeq = p.config().maxSeqLen();
            assertThatThrownBy(() -> new InferenceSession(p, backend, 1, maxSeq + 1))
                    .hasMessage("InferenceSession: capacity must be in [1, maxSeqLen = " + maxSeq + "], got "
                            + (maxSeq + 1));
            assertThatThrownBy(() -> new InferenceSession(p, backend, 0, 4))
                    .hasMessage("InferenceSession: batch must be at least 1, got 0");
            InferenceSession session = new InferenceSession(p, backend, 2, 4);
            assertThatThrownBy(() -> session.forward(new int[] {1, 2, 3}, 2))
                    .hasMessage("InferenceSession.forward: 3 tokens for batch 2 x count 2");
            assertThatThrownBy(() -> session.forward(new int[] {1, 64}, 1))
                    .hasMessage("InferenceSession.forward: token 64 (index 1) is out of the vocabulary range [0, 64)");
            assertThatThrownBy(() -> session.topKIds(0))
                    .hasMessage("topKIds: no forward since the session was created or reset");
            session.forward(new int[] {1, 2, 3, 4, 5, 6}, 3);
            assertThatThrownBy(() -> session.forward(new int[] {1, 2, 3, 4}, 2))
                    .hasMessage("InferenceSession.forward: 3 cached + 2 new tokens exceed the session's capacity 4");
            assertThat(session.length()).as("a refused call changes nothing").isEqualTo(3);
            assertThat(session.topKIds(1)).as("dense: every token goes to expert 0").containsOnly(0).hasSize(2 * 3);
        }
    }
}
