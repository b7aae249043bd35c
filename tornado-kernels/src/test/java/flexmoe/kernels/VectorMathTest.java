package flexmoe.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import flexmoe.kernels.jvm.VectorMath;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath#exp}: accuracy against float64 {@code Math.exp} over its whole range, the vector lanes
 * bit-identical to the scalar twin, and the edges (0, -Inf, +Inf, NaN, the clamps); the lane sums and maxima
 * in their documented tree order.
 */
class VectorMathTest {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    @Test
    void withinOneUlpOfTheTrueValueAcrossTheRange() {
        SplittableRandom rng = new SplittableRandom(7);
        float[] xs = new float[1 << 16];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (VectorMath.MIN_ARG + rng.nextDouble() * (VectorMath.MAX_ARG - VectorMath.MIN_ARG));
        }
        xs[0] = 0f;
        xs[1] = -0f;
        xs[2] = 1e-30f;
        xs[3] = -1e-7f;
        xs[4] = VectorMath.MIN_ARG;
        xs[5] = VectorMath.MAX_ARG;
        double worst = 0;
        for (float x : xs) {
            float got = VectorMath.exp(x);
            double want = Math.exp(x);
            double ulps = Math.abs(got - want) / Math.ulp((float) want);
            worst = Math.max(worst, ulps);
            assertThat(ulps).as("exp(%s) = %s, true %s", x, got, want).isLessThanOrEqualTo(1.0);
        }
        assertThat(VectorMath.exp(0f)).isEqualTo(1f);
        System.out.printf("VectorMath.exp: worst error %.2f ulp over %d inputs%n", worst, xs.length);
    }

    @Test
    void vectorLanesEqualTheScalarTwinBitForBit() {
        SplittableRandom rng = new SplittableRandom(11);
        float[] xs = new float[SPECIES.length() * 4096];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (rng.nextDouble() * 220 - 110);
        }
        xs[0] = Float.NEGATIVE_INFINITY;
        xs[1] = Float.POSITIVE_INFINITY;
        xs[2] = Float.NaN;
        xs[3] = -0f;
        xs[4] = Math.nextDown(VectorMath.MIN_ARG);
        xs[5] = Math.nextUp(VectorMath.MAX_ARG);
        float[] out = new float[xs.length];
        for (int i = 0; i < xs.length; i += SPECIES.length()) {
            VectorMath.exp(FloatVector.fromArray(SPECIES, xs, i)).intoArray(out, i);
        }
        for (int i = 0; i < xs.length; i++) {
            assertThat(Float.floatToRawIntBits(out[i])).as("lane for x = %s", xs[i])
                    .isEqualTo(Float.floatToRawIntBits(VectorMath.exp(xs[i])));
        }
    }

    @Test
    void edges() {
        assertThat(VectorMath.exp(Float.NEGATIVE_INFINITY)).isEqualTo(0f);
        assertThat(VectorMath.exp(-1000f)).isEqualTo(0f);
        assertThat(VectorMath.exp(Math.nextDown(VectorMath.MIN_ARG))).isEqualTo(0f);
        assertThat(VectorMath.exp(Float.POSITIVE_INFINITY)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(VectorMath.exp(Math.nextUp(VectorMath.MAX_ARG))).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(VectorMath.exp(Float.NaN)).isNaN();
        assertThat(VectorMath.exp(VectorMath.MAX_ARG)).isFinite();
        assertThat(VectorMath.exp(VectorMath.MIN_ARG)).isGreaterThan(0f);
    }

    @Test
    void sumLanesAddsInTheFixedPairwiseTree() {
        SplittableRandom rng = new SplittableRandom(12);
        int n = SPECIES.length();
        for (int trial = 0; trial < 200; trial++) {
            float[] lanes = new float[n];
            for (int i = 0; i < n; i++) {
                // Mixed magnitudes, so another order would round differently.
                lanes[i] = (float) ((rng.nextDouble() - 0.5) * Math.pow(10, rng.nextInt(8)));
            }
            // The tree written out: lane i + lane (i + w) for w = n/2, n/4, ..., 1.
            float[] tree = lanes.clone();
            for (int w = n / 2; w >= 1; w /= 2) {
                for (int i = 0; i < w; i++) {
                    tree[i] = tree[i] + tree[i + w];
                }
            }
            FloatVector v = FloatVector.fromArray(SPECIES, lanes, 0);
            assertThat(Float.floatToRawIntBits(VectorMath.sumLanes(v))).isEqualTo(Float.floatToRawIntBits(tree[0]));
            float max = lanes[0];
            for (float x : lanes) {
                max = Math.max(max, x);
            }
            assertThat(VectorMath.maxLanes(v)).isEqualTo(max);
        }
    }

    @Test
    void maxLanesHasMathMaxSemantics() {
        int n = SPECIES.length();
        float[] lanes = new float[n];
        Arrays.fill(lanes, -0f);
        lanes[n - 1] = 0f;
        assertThat(Float.floatToRawIntBits(VectorMath.maxLanes(FloatVector.fromArray(SPECIES, lanes, 0))))
                .isEqualTo(Float.floatToRawIntBits(0f));
        Arrays.fill(lanes, Float.NEGATIVE_INFINITY);
        assertThat(VectorMath.maxLanes(FloatVector.fromArray(SPECIES, lanes, 0))).isEqualTo(Float.NEGATIVE_INFINITY);
        lanes[n / 2] = Float.NaN;
        assertThat(VectorMath.maxLanes(FloatVector.fromArray(SPECIES, lanes, 0))).isNaN();
    }
}
