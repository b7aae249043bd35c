package flexmoe.moe.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class WilsonTest {

    @Test
    void endpointsAreWhereTheScoreTestJustRejects() {
        // Inside (0, 1) each endpoint p solves |k/n - p| = z sqrt(p (1 - p) / n).
        int[][] cases = {{3, 10}, {50, 100}, {1, 200}, {199, 200}, {7, 7 * 3}};
        for (int[] c : cases) {
            double k = c[0], n = c[1], hat = k / n;
            Wilson.Interval i = Wilson.interval95(c[0], c[1]);
            assertThat(i.low()).isLessThan(hat);
            assertThat(i.high()).isGreaterThan(hat);
            for (double p : new double[] {i.low(), i.high()}) {
                assertThat(Math.abs(hat - p)).as("%s of %s at %s", k, n, p)
                        .isCloseTo(Wilson.Z95 * Math.sqrt(p * (1 - p) / n), within(1e-12));
            }
        }
    }

    @Test
    void edgesStayInsideZeroOneAndAreSymmetric() {
        Wilson.Interval none = Wilson.interval95(0, 20);
        Wilson.Interval all = Wilson.interval95(20, 20);
        assertThat(none.low()).isZero();
        assertThat(none.high()).isGreaterThan(0).isLessThan(0.5);
        assertThat(all.high()).isEqualTo(1.0);
        assertThat(all.low()).isCloseTo(1 - none.high(), within(1e-12));
        Wilson.Interval a = Wilson.interval95(6, 40);
        Wilson.Interval b = Wilson.interval95(34, 40);
        assertThat(a.low()).isCloseTo(1 - b.high(), within(1e-12));
        assertThat(Wilson.interval95(0, 0)).isEqualTo(new Wilson.Interval(0, 1));
        assertThat(Wilson.interval95(50, 100).high() - Wilson.interval95(50, 100).low())
                .as("more data, narrower").isGreaterThan(Wilson.interval95(500, 1000).high()
                        - Wilson.interval95(500, 1000).low());
        assertThatThrownBy(() -> Wilson.interval95(5, 4))
                .hasMessage("Wilson interval: need 0 <= successes <= n, got 5 of 4");
    }
}
