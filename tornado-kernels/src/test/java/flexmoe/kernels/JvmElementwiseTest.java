package flexmoe.kernels;

import static flexmoe.kernels.testing.Numerics.assertBitsEqual;
import static flexmoe.kernels.testing.Numerics.poisoned;
import static flexmoe.kernels.testing.Numerics.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Vector API elementwise passes of the {@code jvm} backend (flexmoe.kernels.jvm.JvmElementwise) against
 * the plain bodies, which the {@code reference} backend runs: AdamW bit for bit; SwiGLU and cross-entropy
 * within a few ulp (their e^x is VectorMath.exp, within 1 ulp, instead of Math.exp; the cross-entropy
 * forward also sums in another order); RMSNorm within a few ulp plus its row sums' reordering. Sizes around the vector width (tails, length 1) and offsets; outputs
 * poisoned. The thread-count checks are in SwiGluTest, CrossEntropyTest, RmsNormTest and AdamWTest, which run
 * the jvm backend; so are the finite-difference checks of the jvm backward passes.
 */
class JvmElementwiseTest {

    /** Rows x F: lengths below, at and around the vector widths (4, 8, 16 lanes), and a long row. */
    private static final int[][] SWIGLU_SHAPES = {{1, 1}, {1, 7}, {2, 15}, {3, 16}, {2, 17}, {3, 31}, {2, 33},
                                                  {5, 64}, {3, 100}, {2, 1024}, {1, 1031}};

    /** Tokens x V, the same idea; 4096 is paper-mini's vocabulary. */
    private static final int[][] CE_SHAPES = {{1, 1}, {2, 2}, {3, 15}, {2, 16}, {4, 17}, {3, 33}, {5, 300},
                                              {3, 4096}, {2, 4099}};

    /** SwiGLU pre-activations where sigmoid saturates, flushes or overflows, spliced into the random rows. */
    private static final float[] EXTREMES = {-1000f, -100f, -88.8f, -88.5f, -87.5f, -86f, -20f, -1.2785f, -0f, 0f,
                                             1e-30f, 20f, 87.5f, 100f, 1000f};

    /**
     * SwiGLU tolerance in ulps of a magnitude per element: each e^x is within 1 ulp of the truth for both
     * versions, sigmoid's divide and the products add a few roundings.
     */
    private static final double SWIGLU_ULPS = 4;

    /**
     * Absolute slack for pre-activations below -87: VectorMath.exp flushes e^x to 0 under e^-87 and overflows
     * to +Inf above e^88 where Math.exp is still finite, so silu there is 0 instead of about 1e-36.
     */
    private static final double UNDERFLOW_ATOL = 1e-33;

    @Test
    void swigluSplitAndFusedWithinFewUlpOfThePlainBodies() {
        SplittableRandom rng = new SplittableRandom(31);
        try (Backend jvm = Backends.create("jvm", 2); Backend reference = Backends.create("reference", 1)) {
            for (int[] s : SWIGLU_SHAPES) {
                int rows = s[0], f = s[1], n = rows * f;
                float[] a = uniform(rng, n + 2, 8);
                for (int i = 0; i < EXTREMES.length && i < n; i++) {
                    a[2 + rng.nextInt(n)] = EXTREMES[i];
                }
                float[] u = uniform(rng, n + 3, 2);
                float[] dh = uniform(rng, n + 1, 1);
                String what = rows + "x" + f;

                // Split layout with offsets.
                float[] h = poisoned(n + 2);
                float[] hRef = poisoned(n + 2);
                jvm.moe().swigluForward(a, 2, u, 3, h, 1, rows, f);
                reference.moe().swigluForward(a, 2, u, 3, hRef, 1, rows, f);
                float[] da = poisoned(n + 1);
                float[] du = poisoned(n + 4);
                float[] daRef = poisoned(n + 1);
                float[] duRef = poisoned(n + 4);
                jvm.moe().swigluBackward(a, 2, u, 3, dh, 1, da, 0, du, 4, rows, f);
                reference.moe().swigluBackward(a, 2, u, 3, dh, 1, daRef, 0, duRef, 4, rows, f);
                double[] hMag = new double[n];
                double[] daMag = new double[n];
                double[] duMag = new double[n];
                for (int i = 0; i < n; i++) {
                    double x = a[2 + i];
                    double sg = 1 / (1 + Math.exp(-x));
                    hMag[i] = Math.abs(x * sg * u[3 + i]);
                    // da = g u s (1 + x (1 - s)) cancels near x = -1.28: scale by its terms, not its value.
                    daMag[i] = Math.abs(dh[1 + i] * u[3 + i]) * sg * (1 + Math.abs(x) * (1 - sg));
                    duMag[i] = Math.abs(dh[1 + i] * x * sg);
                }
                assertUlpClose("swiglu h " + what, h, hRef, 1, n, hMag);
                assertUlpClose("swiglu da " + what, da, daRef, 0, n, daMag);
                assertUlpClose("swiglu du " + what, du, duRef, 4, n, duMag);
                assertThat(h[0]).isNaN();
                assertThat(h[n + 1]).isNaN();
                assertThat(du[3]).isNaN();

                // Fused layout [rows, 2F] (gate | up) built from the same values: the split results' bits.
                int guOff = 5;
                float[] gu = new float[guOff + 2 * n];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(a, 2 + r * f, gu, guOff + r * 2 * f, f);
                    System.arraycopy(u, 3 + r * f, gu, guOff + r * 2 * f + f, f);
                }
                float[] hf = poisoned(n + 2);
                jvm.moe().swigluFusedForward(gu, guOff, hf, 1, rows, f);
                assertBitsEqual("fused h " + what, hf, h);
                float[] dGu = poisoned(2 * n + 2);
                jvm.moe().swigluFusedBackward(gu, guOff, dh, 1, dGu, 1, rows, f);
                float[] daF = poisoned(n + 1);
                float[] duF = poisoned(n + 4);
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(dGu, 1 + r * 2 * f, daF, r * f, f);
                    System.arraycopy(dGu, 1 + r * 2 * f + f, duF, 4 + r * f, f);
                }
                assertBitsEqual("fused da " + what, daF, da);
                assertBitsEqual("fused du " + what, duF, du);
                assertThat(dGu[0]).isNaN();
                assertThat(dGu[2 * n + 1]).isNaN();
            }
        }
    }

    @Test
    void swigluOfNaNIsNaN() {
        float[] a = new float[37];
        Arrays.fill(a, Float.NaN);
        float[] u = new float[37];
        Arrays.fill(u, 1f);
        float[] h = new float[37];
        try (Backend jvm = Backends.create("jvm", 1)) {
            jvm.moe().swigluForward(a, 0, u, 0, h, 0, 1, 37);
        }
        for (float v : h) {
            assertThat(v).isNaN();
        }
    }

    @Test
    void crossEntropyWithinFewUlpOfThePlainBodies() {
        SplittableRandom rng = new SplittableRandom(32);
        float zw = 1e-4f;
        try (Backend jvm = Backends.create("jvm", 2); Backend reference = Backends.create("reference", 1)) {
            for (int[] s : CE_SHAPES) {
                int tokens = s[0], vocab = s[1];
                float[] logits = uniform(rng, tokens * vocab, 6);
                for (int i = 0; i < logits.length; i++) {
                    logits[i] += 20f;
                }
                // A dominant logit, and one so low that its e^(x - max) underflows.
                logits[rng.nextInt(logits.length)] = 60f;
                logits[rng.nextInt(logits.length)] = -90f;
                int[] y = CrossEntropyTest.targets(rng, tokens, vocab);
                String what = tokens + "x" + vocab;

                float[] loss = poisoned(tokens);
                float[] lse = poisoned(tokens);
                float[] lossRef = poisoned(tokens);
                float[] lseRef = poisoned(tokens);
                jvm.training().crossEntropyForward(logits, y, tokens, vocab, zw, loss, lse);
                reference.training().crossEntropyForward(logits, y, tokens, vocab, zw, lossRef, lseRef);
                // lse = max + log(sum): the sums of V terms in [0, 1] (one exactly 1) differ by their order
                // and the exp ulps, so log(sum) by a few ulp of 1 times about sqrt(V); the max is exact.
                double sumSlack = (4 + Math.sqrt(vocab)) * Math.ulp(1f);
                double[] lseMag = new double[tokens];
                double[] lossMag = new double[tokens];
                double maxLse = 0;
                for (int t = 0; t < tokens; t++) {
                    lseMag[t] = Math.abs(lseRef[t]);
                    // loss = (max - x_y) + log(sum) + zw lse^2: rounded at the size of its terms.
                    lossMag[t] = Math.abs(lossRef[t]) + Math.log(vocab) + zw * lseRef[t] * lseRef[t];
                    maxLse = Math.max(maxLse, Math.abs(lseRef[t]));
                }
                assertUlpClose("lse " + what, lse, lseRef, 0, tokens, lseMag, 4, sumSlack);
                // d loss / d log(sum) = 1 + 2 zw lse.
                assertUlpClose("loss " + what, loss, lossRef, 0, tokens, lossMag, 4, sumSlack * (1 + 2 * zw * maxLse));
                for (int t = 0; t < tokens; t++) {
                    if (y[t] < 0) {
                        assertThat(loss[t]).isEqualTo(0f);
                    }
                }

                // Backward from the same lse for both: only the exps differ.
                float[] scale = {1f / Math.max(1, TrainingOps.validTokens(y, tokens))};
                float[] d = poisoned(tokens * vocab);
                float[] dRef = poisoned(tokens * vocab);
                jvm.training().crossEntropyBackward(logits, y, lseRef, tokens, vocab, zw, scale, d);
                reference.training().crossEntropyBackward(logits, y, lseRef, tokens, vocab, zw, scale, dRef);
                double[] dMag = new double[tokens * vocab];
                for (int t = 0; t < tokens; t++) {
                    double c = 1 + 2.0 * zw * lseRef[t];
                    for (int j = 0; j < vocab; j++) {
                        double p = Math.exp((double) logits[t * vocab + j] - lseRef[t]);
                        // At the target, p c - 1 may cancel: scale by its terms.
                        dMag[t * vocab + j] = scale[0] * (p * c + (j == y[t] ? 1 : 0));
                    }
                }
                assertUlpClose("dlogits " + what, d, dRef, 0, tokens * vocab, dMag);
                for (int t = 0; t < tokens; t++) {
                    if (y[t] < 0) {
                        for (int j = 0; j < vocab; j++) {
                            assertThat(d[t * vocab + j]).as("ignored row").isEqualTo(0f);
                        }
                    }
                }

                float[] inPlace = logits.clone();
                jvm.training().crossEntropyBackward(inPlace, y, lseRef, tokens, vocab, zw, scale, inPlace);
                assertBitsEqual("in place " + what, inPlace, d);
            }
        }
    }

    @Test
    void rmsnormWithinFewUlpOfThePlainBodies() {
        SplittableRandom rng = new SplittableRandom(34);
        int[][] shapes = {{1, 1}, {2, 7}, {3, 16}, {2, 17}, {4, 33}, {3, 256}, {2, 259}};
        float eps = 1e-5f;
        try (Backend jvm = Backends.create("jvm", 2); Backend reference = Backends.create("reference", 1)) {
            for (int[] s : shapes) {
                int rows = s[0], dim = s[1], n = rows * dim;
                float[] x = uniform(rng, 3 + n, 2);
                float[] w = uniform(rng, 1 + dim, 1.5);
                float[] dy = uniform(rng, 2 + n, 1);
                String what = rows + "x" + dim;
                float[] y = poisoned(2 + n + 1);
                float[] rstd = poisoned(4 + rows);
                float[] yRef = poisoned(2 + n + 1);
                float[] rstdRef = poisoned(4 + rows);
                jvm.transformer().rmsnormForward(x, 3, w, 1, y, 2, rstd, 4, rows, dim, eps);
                reference.transformer().rmsnormForward(x, 3, w, 1, yRef, 2, rstdRef, 4, rows, dim, eps);
                // The sums of squares differ by their order: relatively ~sqrt(D) half-ulps of 1 (2^-24 each),
                // passed on to rstd (halved by the 1/sqrt) and y: that relative slack on top of their own 4 ulp.
                double sumRel = (4 + Math.sqrt(dim)) * 0x1p-24;
                double[] rstdMag = new double[rows];
                double[] rstdSlack = new double[rows];
                double[] yMag = new double[n];
                double[] ySlack = new double[n];
                for (int t = 0; t < rows; t++) {
                    rstdMag[t] = rstdRef[4 + t];
                    rstdSlack[t] = rstdRef[4 + t] * sumRel;
                    for (int c = 0; c < dim; c++) {
                        yMag[t * dim + c] = Math.abs(yRef[2 + t * dim + c]);
                        ySlack[t * dim + c] = Math.abs(yRef[2 + t * dim + c]) * sumRel;
                    }
                }
                assertUlpClose("rstd " + what, rstd, rstdRef, 4, rows, rstdMag, 4, rstdSlack);
                assertUlpClose("y " + what, y, yRef, 2, n, yMag, 4, ySlack);
                assertThat(y[1]).isNaN();
                assertThat(y[2 + n]).isNaN();
                assertThat(rstd[3]).isNaN();

                // Backward from the reference's rstd; only the dot's order differs.
                float[] dx = poisoned(5 + n);
                float[] dxRef = poisoned(5 + n);
                float[] dw = new float[4 + dim];
                float[] dwRef = new float[4 + dim];
                jvm.transformer().rmsnormBackward(x, 3, w, 1, rstdRef, 4, dy, 2, dx, 5, dw, 4, rows, dim);
                reference.transformer().rmsnormBackward(x, 3, w, 1, rstdRef, 4, dy, 2, dxRef, 5, dwRef, 4, rows,
                        dim);
                double[] dxMag = new double[n];
                double[] dxSlack = new double[n];
                for (int t = 0; t < rows; t++) {
                    double r = rstdRef[4 + t];
                    double absDot = 0;
                    for (int c = 0; c < dim; c++) {
                        absDot += Math.abs((double) dy[2 + t * dim + c] * w[1 + c] * x[3 + t * dim + c]);
                    }
                    double kAbs = absDot * r * r / dim;
                    for (int c = 0; c < dim; c++) {
                        int i = t * dim + c;
                        double xc = Math.abs(x[3 + t * dim + c]);
                        // dx = r (g - x k) cancels: scale by its terms; k carries the dot's reordering.
                        dxMag[i] = r * (Math.abs(dy[2 + t * dim + c] * w[1 + c]) + xc * kAbs);
                        dxSlack[i] = r * xc * kAbs * sumRel;
                    }
                }
                assertUlpClose("dx " + what, dx, dxRef, 5, n, dxMag, 4, dxSlack);
                assertBitsEqual("dw " + what, dw, dwRef);
                assertThat(dx[4]).isNaN();
            }
        }
    }

    @Test
    void adamwIsBitIdenticalToThePlainBody() {
        SplittableRandom rng = new SplittableRandom(33);
        int[] sizes = {1, 7, 15, 16, 17, 31, 33, 1000, 16_385, 40_001};
        // (beta1, wd): both branches of the lerp (1 - beta1 below and above 0.5), with and without decay.
        double[][] settings = {{0.9, 0.1}, {0.9, 0.0}, {0.3, 0.01}};
        try (Backend jvm = Backends.create("jvm", 2); Backend reference = Backends.create("reference", 1)) {
            for (double[] setting : settings) {
                for (int n : sizes) {
                    int off = n % 2 == 0 ? 0 : 3;
                    int len = off + n + 2;
                    float[] p = withSpecialValues(uniform(rng, len, 1), off, n);
                    float[] m = uniform(rng, len, 0.01);
                    float[] v = uniform(rng, len, 1e-4);
                    for (int i = 0; i < len; i++) {
                        v[i] = Math.abs(v[i]);
                    }
                    // Outside [off, off + n): poisoned, so a write there shows.
                    for (float[] x : new float[][] {p, m, v}) {
                        Arrays.fill(x, 0, off, Float.NaN);
                        Arrays.fill(x, off + n, len, Float.NaN);
                    }
                    float[] pRef = p.clone();
                    float[] mRef = m.clone();
                    float[] vRef = v.clone();
                    float[] hyper = new float[AdamWKernels.HYPER_SIZE];
                    for (int step = 1; step <= 3; step++) {
                        float[] g = withSpecialValues(uniform(rng, len, 0.5), off, n);
                        TrainingOps.adamwHyper(hyper, 3e-3, setting[0], 0.95, 1e-8, setting[1], step);
                        jvm.training().adamwStep(p, g, m, v, off, n, hyper);
                        reference.training().adamwStep(pRef, g, mRef, vRef, off, n, hyper);
                        String what = "n " + n + " step " + step + " b1 " + setting[0] + " wd " + setting[1];
                        assertBitsEqual("p " + what, p, pRef);
                        assertBitsEqual("m " + what, m, mRef);
                        assertBitsEqual("v " + what, v, vRef);
                    }
                    assertThat(p[off + n]).isNaN();
                    if (off > 0) {
                        assertThat(m[off - 1]).isNaN();
                    }
                }
            }
        }
    }

    /** Zeros, a subnormal, tiny and large values at random places of {@code x[off, off + n)}. */
    private static float[] withSpecialValues(float[] x, int off, int n) {
        float[] special = {0f, -0f, Float.MIN_VALUE, 1e-30f, -1e-20f, 1e10f, -3e4f};
        SplittableRandom rng = new SplittableRandom(n);
        for (int i = 0; i < special.length && i < n; i++) {
            x[off + rng.nextInt(n)] = special[i];
        }
        return x;
    }

    /** {@link #assertUlpClose(String, float[], float[], int, int, double[], double, double)} with SwiGLU's bounds. */
    private static void assertUlpClose(String what, float[] actual, float[] expected, int off, int n,
                                       double[] magnitude) {
        assertUlpClose(what, actual, expected, off, n, magnitude, SWIGLU_ULPS, UNDERFLOW_ATOL);
    }

    /** As below with one absolute slack for every element. */
    private static void assertUlpClose(String what, float[] actual, float[] expected, int off, int n,
                                       double[] magnitude, double ulps, double atol) {
        double[] slack = new double[n];
        Arrays.fill(slack, atol);
        assertUlpClose(what, actual, expected, off, n, magnitude, ulps, slack);
    }

    /**
     * {@code |actual - expected| <= ulps * ulp(magnitude[i]) + slack[i]} for the elements {@code off + i},
     * i in [0, n), where {@code magnitude[i]} bounds the terms the element is computed from (so cancellation
     * is not charged to the kernel) and {@code slack[i]} covers a known difference (reordered sums,
     * underflow). NaN must match NaN; a poisoned (NaN) output on one side only fails.
     */
    private static void assertUlpClose(String what, float[] actual, float[] expected, int off, int n,
                                       double[] magnitude, double ulps, double[] slack) {
        for (int i = 0; i < n; i++) {
            float a = actual[off + i];
            float e = expected[off + i];
            if (Float.isNaN(a) || Float.isNaN(e)) {
                if (Float.isNaN(a) != Float.isNaN(e)) {
                    fail("%s: element %d is %s, expected %s", what, i, a, e);
                }
                continue;
            }
            double ulp = Math.ulp((float) Math.max(magnitude[i], Math.abs(e)));
            double err = Math.abs((double) a - e);
            if (!(err <= ulps * ulp + slack[i])) {
                fail("%s: element %d is %s, expected %s (%.1f ulp of %s; allowed %s ulp + %s)", what, i, a, e,
                        err / ulp, magnitude[i], ulps, slack[i]);
            }
        }
    }
}
