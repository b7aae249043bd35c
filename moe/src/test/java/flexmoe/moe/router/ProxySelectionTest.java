package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Proxy sets: the nearest-centroid ranking of public documents, checked against a double-precision recomputation. */
class ProxySelectionTest {

    private static final ModelConfig TINY = ModelConfig.preset("tiny");
    private static final Tokenizer TOKENIZER = RouterTesting.charTokenizer(TINY.vocabSize());
    private static Backend backend;
    private static HiddenMeanInit embedder;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
        embedder = new HiddenMeanInit(Parameters.init(TINY, 3), backend, TOKENIZER, 4);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @Test
    void choosesThePublicDocumentsClosestToTheOwnersCentroidBestFirst() {
        // Public candidates: generic text, with a few math-like documents mixed in (a random tiny model need not
        // separate them, so only the ranking rule is checked here; the quick start's log shows real separation).
        List<String> candidates = new ArrayList<>(RouterTesting.documents("public", 30, 1));
        List<String> mathLike = RouterTesting.documents("math", 5, 2);
        for (int i = 0; i < mathLike.size(); i++) {
            candidates.add(3 + 6 * i, mathLike.get(i));
        }
        List<String> owner = RouterTesting.documents("math", 20, 3);
        ProxySelection selection = new ProxySelection(embedder, candidates);
        ProxySelection.Result r = selection.select("math", owner, 5);

        // Recompute in double: score(x) = (m_D - m_pub)·x - (m_D - m_pub)·(m_D + m_pub)/2.
        int d = TINY.dim();
        float[] c = embedder.documentMeans(candidates);
        float[] o = embedder.documentMeans(owner);
        double[] mPub = RouterTesting.mean(c, candidates.size(), d);
        double[] mD = RouterTesting.mean(o, owner.size(), d);
        double[] score = new double[candidates.size()];
        double threshold = 0;
        for (int j = 0; j < d; j++) {
            threshold += (mD[j] - mPub[j]) * (mD[j] + mPub[j]) / 2;
        }
        for (int i = 0; i < candidates.size(); i++) {
            for (int j = 0; j < d; j++) {
                score[i] += (mD[j] - mPub[j]) * c[i * d + j];
            }
            score[i] -= threshold;
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            expected.add(i);
        }
        expected.sort(Comparator.comparingDouble(i -> -score[i]));
        assertThat(r.indices()).containsExactly(expected.subList(0, 5).stream().mapToInt(Integer::intValue).toArray());
        for (int k = 0; k < 5; k++) {
            assertThat(r.scores()[k]).isCloseTo(score[r.indices()[k]], org.assertj.core.data.Offset.offset(1e-3));
        }
        assertThat(r.scores()).isSortedAccordingTo(Comparator.reverseOrder());
        assertThat(ProxySelection.documents(candidates, r).getFirst()).isEqualTo(candidates.get(r.indices()[0]));
        long ownerSide = 0;
        for (int i = 0; i < owner.size(); i++) {
            double s = -threshold;
            for (int j = 0; j < d; j++) {
                s += (mD[j] - mPub[j]) * o[i * d + j];
            }
            ownerSide += s > 0 ? 1 : 0;
        }
        assertThat(r.ownerAccuracy()).isEqualTo((double) ownerSide / owner.size());
        assertThat(r.publicAccuracy()).isBetween(0.0, 1.0);

        // Deterministic, and asking for more than there are gives all candidates.
        assertThat(new ProxySelection(embedder, candidates).select("math", owner, 5).indices()).isEqualTo(r.indices());
        assertThat(selection.select("math", owner, 1000).indices()).hasSize(candidates.size());
    }

    @Test
    void badInputIsRefusedWithTheReason() {
        assertThatThrownBy(() -> new ProxySelection(embedder, List.of()))
                .hasMessageContaining("no public documents");
        ProxySelection s = new ProxySelection(embedder, RouterTesting.documents("public", 3, 1));
        assertThatThrownBy(() -> s.select("math", List.of("x"), 0)).hasMessageContaining("--proxy-documents");
        assertThatThrownBy(() -> s.select("math", List.of(), 2)).hasMessageContaining("domain math has no documents");
    }
}
