package flexmoe.moe.model;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Gradient check of the WHOLE model (complements the per-kernel float64 checks): the analytic directional
 * derivative g·u against the central difference (L(θ+εu) − L(θ−εu)) / 2ε of the float32 forward, ε = 1e-3.
 *
 * <p>Directions: u ~ N(0, rms(tensor)²) per coordinate, i.e. ε is relative to each tensor's scale (weights
 * ~0.02, norms ~1), so every tensor is perturbed by ~0.1% and the truncation error (O(ε²), measured: 3e-2
 * relative at ε = 1e-2 with unscaled u, falling 10x per √10 in ε) stays far below the tolerance. g·u is
 * formed with the perturbation actually stored in float32, ((θ+εu)_f − (θ−εu)_f) / 2ε, so rounding θ+εu to
 * float does not count as a gradient error.
 *
 * <p>Tolerance: 2e-2 relative plus an absolute floor. The loss (~ln 64 ≈ 4.2) is a float32 computation
 * through ~30 kernels; its rounding error (a few 1e-7, i.e. about one ulp of 4.2, not smooth in θ) divided
 * by 2ε gives ~1e-4 of noise in the difference quotient: the floor is 1e-4 for directions (derivatives of
 * order 0.01-2 here) and 3e-4 for single coordinates (measured errors there: at most ~1.4e-4).
 *
 * <p>Single coordinates: per tensor, the coordinate with the largest |gradient| (a strong relative check)
 * and one random coordinate, ε = 1e-3 absolute; every tensor kind is covered.
 *
 * <p>Router: biases are random negative values (|b| >> ε) so min(b, 0) is smooth there; with top-k < E the
 * check asserts that θ ± εu routes every token to the same experts as θ (a changed top-k set would be a
 * genuine discontinuity, not a gradient error); router rows are scaled up for routing margins, and the
 * z-loss weights are raised (0.05) so that their gradients matter at the tolerance. Norm weights are
 * jittered away from 1 so that their gradients are not special.
 */
class ModelGradientCheckTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static ModelConfig tiny() {
        return ModelConfig.preset("tiny");
    }

    @Test
    void denseModelDirectionalDerivatives() {
        ModelConfig c = tiny().withZLoss(1e-3, 0.05);
        checkDirections(c, 11, 6);
    }

    @Test
    void moeAllExpertsActiveDirectionalDerivatives() {
        ModelConfig c = tiny().withExperts(3, 3).withZLoss(0.05, 0.05);
        checkDirections(c, 12, 6);
    }

    @Test
    void moeTopTwoOfThreeDirectionalDerivatives() {
        ModelConfig c = tiny().withExperts(3, 2).withZLoss(0.05, 0.05);
        checkDirections(c, 13, 6);
    }

    @Test
    void denseModelSingleCoordinates() {
        checkCoordinates(tiny().withZLoss(1e-3, 0.05), 21);
    }

    @Test
    void moeTopTwoOfThreeSingleCoordinates() {
        checkCoordinates(tiny().withExperts(3, 2).withZLoss(0.05, 0.05), 22);
    }

    // ---------------------------------------------------------------------------------------------------

    private record Setup(FlexOlmoModel model, Parameters params, TokenBatch batch, List<Tensor> tensors,
                         List<float[]> theta, List<float[]> grad, int[][] ids) {
    }

    private static Setup setup(ModelConfig c, long seed) {
        Parameters p = Parameters.init(c, seed);
        ModelTesting.setBiases(p, seed + 1, -0.8, -0.2);
        ModelTesting.jitterNorms(p, seed + 2, 0.3);
        // Larger router rows give routing margins well above the perturbation.
        for (Tensor t : p.tensors()) {
            if (t.kind() == Tensor.Kind.ROUTER) {
                float[] w = t.data();
                for (int i = 0; i < w.length; i++) {
                    w[i] *= 25f;
                }
            }
        }
        p.trainAll();
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        TokenBatch batch = ModelTesting.randomBatch(c, 2, 12, seed + 3);
        p.zeroGrads();
        Loss loss = model.forward(batch);
        assertThat(loss.total()).isFinite();
        model.backward();
        List<Tensor> tensors = p.trainable();
        assertThat(tensors).hasSize(p.tensors().size());
        return new Setup(model, p, batch, tensors, ModelTesting.snapshot(tensors), ModelTesting.grads(tensors),
                routing(model, c));
    }

    private static int[][] routing(FlexOlmoModel model, ModelConfig c) {
        int[][] ids = new int[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            ids[l] = model.topKIds(l);
        }
        return ids;
    }

    private static void checkDirections(ModelConfig c, long seed, int directions) {
        Setup s = setup(c, seed);
        SplittableRandom rng = new SplittableRandom(seed + 100);
        double eps = 1e-3;
        List<String> report = new ArrayList<>();
        for (int dir = 0; dir < directions; dir++) {
            List<float[]> plus = new ArrayList<>();
            List<float[]> minus = new ArrayList<>();
            for (float[] th : s.theta()) {
                float[] a = new float[th.length];
                float[] b = new float[th.length];
                double scale = rms(th);
                for (int i = 0; i < th.length; i++) {
                    double u = scale * rng.nextGaussian();
                    a[i] = (float) (th[i] + eps * u);
                    b[i] = (float) (th[i] - eps * u);
                }
                plus.add(a);
                minus.add(b);
            }
            double analytic = 0;
            for (int j = 0; j < s.tensors().size(); j++) {
                float[] g = s.grad().get(j), a = plus.get(j), b = minus.get(j);
                for (int i = 0; i < g.length; i++) {
                    analytic += g[i] * (((double) a[i] - b[i]) / (2 * eps));
                }
            }
            double lp = lossAt(s, plus, c);
            double lm = lossAt(s, minus, c);
            double fd = (lp - lm) / (2 * eps);
            report.add(String.format("dir %d: analytic %.6g fd %.6g rel %.2e", dir, analytic, fd,
                    Math.abs(fd - analytic) / Math.abs(analytic)));
            assertThat(Math.abs(fd - analytic)).as("direction %d: analytic %s vs central difference %s (%s)", dir,
                    analytic, fd, report).isLessThanOrEqualTo(2e-2 * Math.abs(analytic) + 1e-4);
        }
        ModelTesting.restore(s.tensors(), s.theta());
        System.out.printf("gradient check %d experts, top-%d: %s%n", c.experts(), c.topK(), report);
    }

    private static double rms(float[] a) {
        double sum = 0;
        for (float x : a) {
            sum += (double) x * x;
        }
        return Math.sqrt(sum / a.length);
    }

    /** The loss at the given values; with top-k < E also checks the routing did not change. */
    private static double lossAt(Setup s, List<float[]> values, ModelConfig c) {
        ModelTesting.restore(s.tensors(), values);
        double loss = s.model().forward(s.batch()).total();
        if (c.topK() < c.experts()) {
            int[][] ids = routing(s.model(), c);
            for (int l = 0; l < ids.length; l++) {
                assertThat(ids[l]).as("layer %d routing changed under the perturbation (pick a smaller eps or"
                        + " larger margins)", l).isEqualTo(s.ids()[l]);
            }
        }
        return loss;
    }

    private static void checkCoordinates(ModelConfig c, long seed) {
        Setup s = setup(c, seed);
        SplittableRandom rng = new SplittableRandom(seed + 200);
        double eps = 1e-3;
        List<String> report = new ArrayList<>();
        boolean[] kindSeen = new boolean[Tensor.Kind.values().length];
        double worst = 0;
        for (int j = 0; j < s.tensors().size(); j++) {
            Tensor t = s.tensors().get(j);
            float[] g = s.grad().get(j);
            kindSeen[t.kind().ordinal()] = true;
            int largest = 0;
            for (int i = 1; i < g.length; i++) {
                if (Math.abs(g[i]) > Math.abs(g[largest])) {
                    largest = i;
                }
            }
            for (int i : new int[] {largest, rng.nextInt(g.length)}) {
                float orig = s.theta().get(j)[i];
                float up = (float) (orig + eps);
                float down = (float) (orig - eps);
                t.data()[i] = up;
                double lp = s.model().forward(s.batch()).total();
                t.data()[i] = down;
                double lm = s.model().forward(s.batch()).total();
                t.data()[i] = orig;
                double fd = (lp - lm) / ((double) up - down);
                report.add(String.format("%s[%d]: g %.5g fd %.5g", t.name(), i, g[i], fd));
                worst = Math.max(worst, Math.abs(fd - g[i]));
                assertThat(Math.abs(fd - g[i])).as("%s[%d]: analytic %s vs central difference %s", t.name(), i,
                        g[i], fd).isLessThanOrEqualTo(2e-2 * Math.abs(g[i]) + 3e-4);
            }
        }
        boolean[] expected = new boolean[Tensor.Kind.values().length];
        Arrays.fill(expected, true);
        if (c.isDense()) {
            expected[Tensor.Kind.ROUTER.ordinal()] = false;
            expected[Tensor.Kind.BIAS.ordinal()] = false;
        }
        assertThat(kindSeen).isEqualTo(expected);
        System.out.printf("gradient check %d experts, top-%d: %d coordinates, largest |fd - g| %.1e%n", c.experts(),
                c.topK(), report.size(), worst);
    }
}
