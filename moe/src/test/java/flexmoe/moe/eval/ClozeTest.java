package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.TokenBatch;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.Trainer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClozeTest {

    private static final BpeTokenizer TOK = EvalFixtures.TOKENIZER;
    /** Context long enough that no cloze item of these options needs cutting. */
    private static final ModelConfig LONG = new ModelConfig(TOK.vocabSize(), 32, 2, 2, 64, 96, 500_000, 1e-6, 3, 2,
            1e-3, 0, 0.02);
    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 2);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void eachChoiceScoresItsTrainingForwardLogLikelihoodPerByte() {
        Parameters p = flexmoe.moe.generate.TestModels.jittered(Parameters.init(LONG, 1), 1);
        List<String> docs = EvalFixtures.documents(2, 6);
        List<ClozeQuestion> questions = ClozeTask.build("news", docs, new ClozeOptions(4, 3, 60, 24, 3));
        double[][] scores = new Cloze(new SequenceScorer(p, backend, 5, 96), TOK).scores(questions);
        for (int q = 0; q < questions.size(); q++) {
            ClozeQuestion question = questions.get(q);
            int[] context = TOK.encode(question.context());
            for (int c = 0; c < 4; c++) {
                String choice = question.choices().get(c);
                int[] ids = TOK.encode(choice);
                // [eos]? context choice: inputs all but the last, targets only where a choice token comes next.
                List<Integer> seq = new ArrayList<>();
                if (question.documentStart()) {
                    seq.add(TOK.eosId());
                }
                int scoredFrom = seq.size() + context.length;
                for (int id : context) {
                    seq.add(id);
                }
                for (int id : ids) {
                    seq.add(id);
                }
                int n = seq.size() - 1;
                int[] inputs = new int[n], targets = new int[n];
                for (int i = 0; i < n; i++) {
                    inputs[i] = seq.get(i);
                    targets[i] = i + 1 >= scoredFrom ? seq.get(i + 1) : TokenBatch.IGNORE;
                }
                double nll = EvalFixtures.trainingForwardNll(p, backend, inputs, targets);
                double expected = -nll / choice.getBytes(StandardCharsets.UTF_8).length;
                assertThat(scores[q][c]).as("question %d choice %d", q, c).isCloseTo(expected,
                        within(1e-5 * (1 + Math.abs(expected))));
            }
        }
    }

    @Test
    void aModelThatLearntTheDocumentsPicksTheirContinuations() {
        // Train a one-layer dense model on six short documents until it knows them, then ask cloze questions about
        // those documents: a working scorer must find the true continuations far above chance (1 / 4), and the
        // untrained model must not.
        ModelConfig c = new ModelConfig(TOK.vocabSize(), 32, 1, 2, 64, 64, 500_000, 1e-6, 1, 1, 1e-3, 0, 0.02);
        List<String> docs = new ArrayList<>();
        for (String d : EvalFixtures.documents(30, 6)) {
            docs.add(d.substring(0, 160));
        }
        List<ClozeQuestion> questions = ClozeTask.build("math", docs, new ClozeOptions(40, 3, 40, 20, 7));
        Parameters p = Parameters.init(c, 8);
        Cloze cloze = new Cloze(new SequenceScorer(p, backend, 8, 64), TOK);
        double untrained = cloze.evaluate("math", questions).accuracy();

        // Each document as [eos, tokens...] cut into 33-token pieces: inputs 32, targets shifted by one.
        List<int[]> pieces = new ArrayList<>();
        for (String d : docs) {
            int[] ids = TOK.encode(d);
            int[] x = new int[ids.length + 1];
            x[0] = TOK.eosId();
            System.arraycopy(ids, 0, x, 1, ids.length);
            for (int s = 0; s + 33 <= x.length; s += 16) {
                pieces.add(java.util.Arrays.copyOfRange(x, s, s + 33));
            }
        }
        int batch = pieces.size();
        int[] inputs = new int[batch * 32], targets = new int[batch * 32];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(pieces.get(b), 0, inputs, b * 32, 32);
            System.arraycopy(pieces.get(b), 1, targets, b * 32, 32);
        }
        p.trainAll();
        Trainer trainer = new Trainer(new FlexOlmoModel(p, backend), AdamWConfig.olmo2(0),
                LrSchedule.constant(1e-2));
        TokenBatch all = new TokenBatch(inputs, targets, batch, 32);
        double loss = 0;
        for (int step = 0; step < 100; step++) {
            loss = trainer.step(all).loss().crossEntropy();
        }
        assertThat(loss).as("the model learnt the documents").isLessThan(0.5);
        Cloze.Result r = cloze.evaluate("math", questions);
        assertThat(r.questions()).isEqualTo(40);
        assertThat(r.chance()).isEqualTo(0.25);
        assertThat(r.accuracy()).as("trained, untrained %s", untrained).isGreaterThanOrEqualTo(0.7);
        assertThat(untrained).isLessThan(0.6);
        assertThat(r.interval95().low()).isGreaterThan(r.chance());
        int correct = 0;
        for (int q = 0; q < 40; q++) {
            correct += r.predictions()[q] == questions.get(q).answer() ? 1 : 0;
        }
        assertThat(r.correct()).isEqualTo(correct);
    }
}
