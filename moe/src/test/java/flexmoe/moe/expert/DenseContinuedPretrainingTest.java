package flexmoe.moe.expert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.train.AdamWConfig;
import flexmoe.moe.train.LrSchedule;
import flexmoe.moe.train.Trainer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DenseContinuedPretrainingTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void aTrainableCopySharingNothingWithThePublicModel() {
        ModelConfig c = ModelConfig.preset("tiny");
        Parameters pub = Parameters.init(c, 5);
        List<float[]> before = new ArrayList<>();
        Set<Object> publicObjects = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : pub.tensors()) {
            before.add(t.data().clone());
            publicObjects.add(t);
            publicObjects.add(t.data());
        }
        Parameters copy = DenseContinuedPretraining.prepare(pub);

        assertThat(copy.config()).isEqualTo(c);
        assertThat(copy.trainable()).hasSameSizeAs(copy.tensors()).hasSameSizeAs(pub.tensors());
        for (Tensor t : copy.tensors()) {
            // Identity, not content: AssertJ's contains would compare arrays by value.
            assertThat(publicObjects.contains(t) || publicObjects.contains(t.data()))
                    .as("%s shares its tensor or array with the public model", t.name()).isFalse();
            assertThat(t.data()).as(t.name()).isEqualTo(pub.tensor(t.name()).data());
            assertThat(t.kind()).isEqualTo(pub.tensor(t.name()).kind());
        }

        Trainer trainer = new Trainer(new FlexOlmoModel(copy, backend), AdamWConfig.olmo2(0.1),
                LrSchedule.constant(1e-2));
        for (int s = 0; s < 3; s++) {
            trainer.step(ExpertTesting.batch(c, 2, c.maxSeqLen(), 6 + s));
        }
        for (int i = 0; i < pub.tensors().size(); i++) {
            Tensor t = pub.tensors().get(i);
            assertThat(t.data()).as(t.name()).isEqualTo(before.get(i));
            assertThat(t.trainable()).isFalse();
            assertThat(copy.tensor(t.name()).data()).as(t.name()).isNotEqualTo(before.get(i));
        }
    }

    @Test
    void refusesAnMoeModel() {
        assertThatThrownBy(() -> DenseContinuedPretraining.prepare(Parameters.init(
                ModelConfig.preset("tiny").withExperts(2, 2), 1))).hasMessageContaining("must be dense");
    }
}
