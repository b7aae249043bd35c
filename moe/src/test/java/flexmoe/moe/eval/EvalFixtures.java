package flexmoe.moe.eval;

import flexmoe.kernels.Backend;
import flexmoe.moe.generate.TestModels;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.Loss;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.BpeTrainer;
import flexmoe.moe.tokenizer.SyntheticText;
import java.util.Arrays;
import java.util.List;

/** A small BPE tokenizer, made-up documents and tiny models with its vocabulary, for the evaluation tests. */
final class EvalFixtures {

    static final BpeTokenizer TOKENIZER = new BpeTrainer(320).train(Arrays.asList(new SyntheticText(1).documents(30)));

    private EvalFixtures() {
    }

    /** {@code count} made-up documents (200 to 4000 characters each). */
    static List<String> documents(long seed, int count) {
        return List.of(new SyntheticText(seed).documents(count));
    }

    static Parameters dense(long seed) {
        ModelConfig c = ModelConfig.preset("tiny").withVocabSize(TOKENIZER.vocabSize());
        return TestModels.jittered(Parameters.init(c, seed), seed);
    }

    static Parameters moe(long seed) {
        ModelConfig c = ModelConfig.preset("tiny").withVocabSize(TOKENIZER.vocabSize()).withExperts(3, 2);
        return TestModels.jittered(Parameters.init(c, seed), seed);
    }

    /** Sum of the NLL of the scored targets by the training forward: its mean loss times the scored count. */
    static double trainingForwardNll(Parameters p, Backend backend, int[] inputs, int[] targets) {
        Loss loss = new FlexOlmoModel(p, backend).forward(inputs, targets, 1, inputs.length);
        return loss.crossEntropy() * loss.validTokens();
    }
}
