package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import flexmoe.kernels.Backend;
import flexmoe.kernels.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddingProjectionTest {

    private static Backend backend;

    @BeforeAll
    static void setUp() {
        backend = Backends.create("jvm", 1);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    /** Exactly affine data y = x A + c: a tiny ridge recovers A and the intercept. */
    @Test
    void recoversAnAffineMap() {
        int n = 200, e = 6, d = 4;
        float[] x = RouterTesting.randomValues(n * e, 1);
        float[] a = RouterTesting.randomValues(e * d, 2);
        float[] c = RouterTesting.randomValues(d, 3);
        float[] y = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double s = c[j];
                for (int k = 0; k < e; k++) {
                    s += (double) x[i * e + k] * a[k * d + j];
                }
                y[i * d + j] = (float) s;
            }
        }
        EmbeddingProjection p = EmbeddingProjection.fit(x, y, n, e, d, 1e-9, backend);
        float[] w = p.weight();
        for (int i = 0; i < w.length; i++) {
            assertThat((double) w[i]).as("W[%d]", i).isCloseTo(a[i], within(1e-3));
        }
        float[] x0 = java.util.Arrays.copyOfRange(x, 0, e);
        float[] y0 = p.project(x0, backend);
        for (int j = 0; j < d; j++) {
            assertThat((double) y0[j]).isCloseTo(y[j], within(1e-3));
        }
        // The mean input maps onto the mean output exactly (up to float rounding), whatever the ridge.
        EmbeddingProjection strong = EmbeddingProjection.fit(x, y, n, e, d, 10, backend);
        float[] ym = strong.project(strong.inMean(), backend);
        assertThat(ym).isEqualTo(strong.outMean());
    }

    @Test
    void aStrongerRidgeShrinksTheMap() {
        int n = 30, e = 8, d = 3;
        float[] x = RouterTesting.randomValues(n * e, 4);
        float[] y = RouterTesting.randomValues(n * d, 5);
        double previous = Double.POSITIVE_INFINITY;
        for (double ridge : new double[] {1e-3, 1e-1, 1, 10}) {
            double norm = 0;
            for (float v : EmbeddingProjection.fit(x, y, n, e, d, ridge, backend).weight()) {
                norm += (double) v * v;
            }
            assertThat(norm).as("ridge %s", ridge).isLessThan(previous);
            previous = norm;
        }
    }

    @Test
    void badFitsAreRefused() {
        float[] x = RouterTesting.randomValues(10, 1);
        assertThatThrownBy(() -> EmbeddingProjection.fit(x, new float[5], 1, 10, 5, 0.1, backend))
                .hasMessageContaining("needs at least 2 public documents, got 1");
        assertThatThrownBy(() -> EmbeddingProjection.fit(x, new float[4], 2, 5, 2, 0, backend))
                .hasMessageContaining("ridge must be finite and positive");
        assertThatThrownBy(() -> EmbeddingProjection.fit(x, new float[4], 2, 4, 2, 0.1, backend))
                .hasMessageContaining("x has 10 values");
        assertThatThrownBy(() -> EmbeddingProjection.fit(new float[10], new float[4], 2, 5, 2, 0.1, backend))
                .hasMessageContaining("the public embeddings are all equal");
        EmbeddingProjection p = EmbeddingProjection.fit(x, RouterTesting.randomValues(4, 2), 2, 5, 2, 0.1, backend);
        assertThatThrownBy(() -> p.project(new float[4], backend)).hasMessageContaining("vector width 4, expected 5");
    }
}
