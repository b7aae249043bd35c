package flexmoe.kernels.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float {@code e^x} for the Vector API built from lane-wise adds, fused multiply-adds and bit moves only,
 * with a scalar twin that does the same operations in the same order, so a vector lane and a tail element
 * give the same bits.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: its C2 intrinsic (SVML) and its interpreter fallback
 * ({@code Math.exp} per lane) round differently, so a value's bits would depend on whether the method had been
 * JIT-compiled yet, and a resumed training run would not reproduce an uninterrupted one. Scalar
 * {@code Math.exp} is exact to the bit but costs ~20 cycles per element, which is most of the softmax,
 * SwiGLU and cross-entropy passes of a training step.
 *
 * <p>Method: {@code n = round(x log2 e)} by the 1.5 * 2^23 trick, {@code r = x - n ln 2} in two parts
 * (Cody-Waite), {@code e^r} by its degree-7 Taylor polynomial on |r| <= ln 2 / 2 (truncation below 6e-9
 * relative), then times {@code 2^n} built in the exponent bits. Error: within 1 ulp of the true value (0.88 measured)
 * (VectorMathTest checks against {@code Math.exp} over the whole range). Inputs below {@link #MIN_ARG} give
 * exactly 0 (so -Inf gives 0; e^-87 is 1.6e-38, near the smallest normal float); inputs above
 * {@link #MAX_ARG} give +Inf; NaN gives NaN.
 */
public final class VectorMath {

    /** Below this e^x is under the smallest normal float; returns 0. */
    public static final float MIN_ARG = -87.0f;
    /** Above this e^x overflows float; returns +Inf. */
    public static final float MAX_ARG = 88.0f;

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that n * LN2_HI is exact for |n| < 2^9. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer (round half to even). */
    private static final float ROUNDER = 12582912f;
    private static final float C2 = 1f / 2;
    private static final float C3 = 1f / 6;
    private static final float C4 = 1f / 24;
    private static final float C5 = 1f / 120;
    private static final float C6 = 1f / 720;
    private static final float C7 = 1f / 5040;

    /** Lane permutations {@code i -> i ^ 2^s}, widest first, for the preferred species (see {@link #sumLanes}). */
    private static final VectorShuffle<Float>[] PREFERRED_HALVES = halves(FloatVector.SPECIES_PREFERRED);

    private VectorMath() {
    }

    /**
     * The sum of the lanes in a fixed pairwise tree (lane i plus lane i + L/2, then the halves of that, ...):
     * lane-wise adds and data moves only, so C2 and the interpreter give the same bits. Not
     * {@code reduceLanes(ADD)}: its float order is unspecified and differs between the two.
     */
    public static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> half : halvesOf(v.species())) {
            v = v.add(v.rearrange(half));
        }
        return v.lane(0);
    }

    /** The largest lane, in the same tree as {@link #sumLanes}; {@code Math.max} semantics (NaN wins, 0 > -0). */
    public static float maxLanes(FloatVector v) {
        for (VectorShuffle<Float> half : halvesOf(v.species())) {
            v = v.max(v.rearrange(half));
        }
        return v.lane(0);
    }

    private static VectorShuffle<Float>[] halvesOf(VectorSpecies<Float> species) {
        return species == FloatVector.SPECIES_PREFERRED ? PREFERRED_HALVES : halves(species);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves(VectorSpecies<Float> species) {
        int steps = Integer.numberOfTrailingZeros(species.length());
        VectorShuffle<Float>[] shuffles = (VectorShuffle<Float>[]) new VectorShuffle<?>[steps];
        for (int s = 0; s < steps; s++) {
            int offset = species.length() >> (s + 1);
            shuffles[s] = VectorShuffle.fromOp(species, i -> i ^ offset);
        }
        return shuffles;
    }

    /** e^x, the scalar twin of {@link #exp(FloatVector)}: same operations, same bits. */
    public static float exp(float x) {
        if (x != x) {
            return x;
        }
        if (x < MIN_ARG) {
            return 0f;
        }
        if (x > MAX_ARG) {
            return Float.POSITIVE_INFINITY;
        }
        float n = Math.fma(x, LOG2E, ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        float scale = Float.intBitsToFloat(((int) n + 127) << 23);
        return p * scale;
    }

    /** e^x lane by lane; see the class comment for the method, range and error. */
    public static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> species = x.species();
        VectorMask<Float> tooSmall = x.compare(VectorOperators.LT, MIN_ARG);
        VectorMask<Float> tooLarge = x.compare(VectorOperators.GT, MAX_ARG);
        VectorMask<Float> nan = x.test(VectorOperators.IS_NAN);
        FloatVector xc = x.max(MIN_ARG).min(MAX_ARG);
        FloatVector n = xc.fma(FloatVector.broadcast(species, LOG2E), FloatVector.broadcast(species, ROUNDER))
                .sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(species, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(species, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(species, C7), FloatVector.broadcast(species, C6));
        p = p.fma(r, FloatVector.broadcast(species, C5));
        p = p.fma(r, FloatVector.broadcast(species, C4));
        p = p.fma(r, FloatVector.broadcast(species, C3));
        p = p.fma(r, FloatVector.broadcast(species, C2));
        p = p.fma(r, FloatVector.broadcast(species, 1f));
        p = p.fma(r, FloatVector.broadcast(species, 1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector result = p.mul(bits.reinterpretAsFloats());
        return result.blend(0f, tooSmall).blend(Float.POSITIVE_INFINITY, tooLarge).blend(x, nan);
    }
}
