package flexmoe.kernels.jvm;

import flexmoe.kernels.AdamWKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise passes of a training step (SwiGLU, cross-entropy, RMSNorm rows, AdamW) on the Vector API:
 * same shapes, same overwrite conventions and the same arithmetic, in the same order, as the plain bodies of
 * {@link flexmoe.kernels.SwiGluKernels}, {@link flexmoe.kernels.CrossEntropyKernels},
 * {@link flexmoe.kernels.RmsNormKernels} and {@link AdamWKernels}. C2 does not vectorise those loops
 * (Math.exp is a call; a float sum must stay in order, one add latency per element; the AdamW loop goes
 * through double sqrt): together they were ~25% of a paper-mini training step's samples, ~5% after.
 *
 * <p>How the results relate to the plain bodies:
 * <ul>
 *   <li>AdamW: bit-identical. Only IEEE adds, multiplies, divides and square roots (all correctly rounded,
 *       in the vector units as in scalar code), in the body's order, with no fused multiply-adds.</li>
 *   <li>SwiGLU and the cross-entropy backward: e^x is {@link VectorMath#exp} (within 1 ulp) instead of
 *       {@code Math.exp}, so values differ by a few ulp.</li>
 *   <li>Cross-entropy forward: the max is exact; the exp sum is also added lane-wise (then a fixed pairwise
 *       lane tree), a different order than the body's left-to-right sum.</li>
 *   <li>RMSNorm: the row sums (sum of squares, the backward's dot) lane-wise with fused multiply-adds, then
 *       the lane tree; the elementwise parts are the body's.</li>
 * </ul>
 * A loop tail uses the scalar twins with the same operations in the same order, so an element's bits do not
 * depend on whether it fell in a vector or the tail, and nothing here depends on JIT compilation (no
 * {@code VectorOperators.EXP}, no {@code reduceLanes}): a resumed run reproduces an uninterrupted one.
 * Every output element is computed by one call in a fixed order, so the thread count never changes a bit.
 * (The preferred vector width is the machine's; another machine may add the row sums in another order.)
 */
final class JvmElementwise {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private JvmElementwise() {
    }

    /** As {@link flexmoe.kernels.SwiGluKernels#forwardRow}. */
    static void swigluForwardRow(int r, float[] a, int aOff, float[] u, int uOff, float[] h, int hOff, int f) {
        swiglu(a, aOff + r * f, u, uOff + r * f, h, hOff + r * f, f);
    }

    /** As {@link flexmoe.kernels.SwiGluKernels#fusedForwardRow}: the split forward on the row's two halves. */
    static void swigluFusedForwardRow(int r, float[] gu, int guOff, float[] h, int hOff, int f) {
        int gr = guOff + r * 2 * f;
        swiglu(gu, gr, gu, gr + f, h, hOff + r * f, f);
    }

    /** As {@link flexmoe.kernels.SwiGluKernels#backwardRow}. */
    static void swigluBackwardRow(int r, float[] a, int aOff, float[] u, int uOff, float[] dh, int dhOff,
                                  float[] da, int daOff, float[] du, int duOff, int f) {
        swigluBackward(a, aOff + r * f, u, uOff + r * f, dh, dhOff + r * f, da, daOff + r * f, du, duOff + r * f, f);
    }

    /** As {@link flexmoe.kernels.SwiGluKernels#fusedBackwardRow}. */
    static void swigluFusedBackwardRow(int r, float[] gu, int guOff, float[] dh, int dhOff, float[] dGu, int dGuOff,
                                       int f) {
        int gr = guOff + r * 2 * f;
        int dr = dGuOff + r * 2 * f;
        swigluBackward(gu, gr, gu, gr + f, dh, dhOff + r * f, dGu, dr, dGu, dr + f, f);
    }

    /** {@code h[hi + j] = silu(a[ai + j]) * u[ui + j]} for j in [0, n). */
    private static void swiglu(float[] a, int ai, float[] u, int ui, float[] h, int hi, int n) {
        int bound = SPECIES.loopBound(n);
        int j = 0;
        if (bound > 0) {
            FloatVector one = FloatVector.broadcast(SPECIES, 1f);
            for (; j < bound; j += LANES) {
                FloatVector x = FloatVector.fromArray(SPECIES, a, ai + j);
                FloatVector s = one.div(one.add(VectorMath.exp(x.neg())));
                x.mul(s).mul(FloatVector.fromArray(SPECIES, u, ui + j)).intoArray(h, hi + j);
            }
        }
        for (; j < n; j++) {
            float x = a[ai + j];
            h[hi + j] = x * sigmoid(x) * u[ui + j];
        }
    }

    /** The body's {@code da = g u s (1 + a (1 - s))} and {@code du = g (a s)} for j in [0, n). */
    private static void swigluBackward(float[] a, int ai, float[] u, int ui, float[] dh, int gi, float[] da, int dai,
                                       float[] du, int dui, int n) {
        int bound = SPECIES.loopBound(n);
        int j = 0;
        if (bound > 0) {
            FloatVector one = FloatVector.broadcast(SPECIES, 1f);
            for (; j < bound; j += LANES) {
                FloatVector x = FloatVector.fromArray(SPECIES, a, ai + j);
                FloatVector s = one.div(one.add(VectorMath.exp(x.neg())));
                FloatVector g = FloatVector.fromArray(SPECIES, dh, gi + j);
                FloatVector uj = FloatVector.fromArray(SPECIES, u, ui + j);
                // Both outputs after all reads, as the body does per element, so dGu may even be gu (in place).
                FloatVector dav = g.mul(uj).mul(s.mul(one.add(x.mul(one.sub(s)))));
                FloatVector duv = g.mul(x.mul(s));
                dav.intoArray(da, dai + j);
                duv.intoArray(du, dui + j);
            }
        }
        for (; j < n; j++) {
            float x = a[ai + j];
            float s = sigmoid(x);
            float g = dh[gi + j];
            da[dai + j] = g * u[ui + j] * (s * (1f + x * (1f - s)));
            du[dui + j] = g * (x * s);
        }
    }

    /** The body's sigmoid with {@link VectorMath#exp}: the scalar twin of the vector loops above. */
    private static float sigmoid(float x) {
        return 1f / (1f + VectorMath.exp(-x));
    }

    /** As {@link flexmoe.kernels.CrossEntropyKernels#forwardRow}. */
    static void crossEntropyForwardRow(int t, float[] logits, int[] targets, int vocab, float zLossWeight,
                                       float[] loss, float[] lse) {
        int base = t * vocab;
        int bound = SPECIES.loopBound(vocab);
        // The max is exact whatever the order (Math.max semantics: NaN wins, 0 > -0), so it has the body's
        // bits; four running maxima keep the loop off the max latency.
        float max;
        int j;
        if (bound > 0) {
            FloatVector m0 = FloatVector.fromArray(SPECIES, logits, base);
            FloatVector m1 = m0;
            FloatVector m2 = m0;
            FloatVector m3 = m0;
            int bound4 = LANES + (bound - LANES) / (4 * LANES) * (4 * LANES);
            for (j = LANES; j < bound4; j += 4 * LANES) {
                m0 = m0.max(FloatVector.fromArray(SPECIES, logits, base + j));
                m1 = m1.max(FloatVector.fromArray(SPECIES, logits, base + j + LANES));
                m2 = m2.max(FloatVector.fromArray(SPECIES, logits, base + j + 2 * LANES));
                m3 = m3.max(FloatVector.fromArray(SPECIES, logits, base + j + 3 * LANES));
            }
            for (; j < bound; j += LANES) {
                m0 = m0.max(FloatVector.fromArray(SPECIES, logits, base + j));
            }
            max = VectorMath.maxLanes(m0.max(m1).max(m2.max(m3)));
        } else {
            max = logits[base];
            j = 1;
        }
        for (; j < vocab; j++) {
            max = Math.max(max, logits[base + j]);
        }
        // One float accumulator per lane, then the fixed lane tree, then the tail in order.
        float sum = 0f;
        j = 0;
        if (bound > 0) {
            FloatVector mv = FloatVector.broadcast(SPECIES, max);
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; j < bound; j += LANES) {
                acc = acc.add(VectorMath.exp(FloatVector.fromArray(SPECIES, logits, base + j).sub(mv)));
            }
            sum = VectorMath.sumLanes(acc);
        }
        for (; j < vocab; j++) {
            sum += VectorMath.exp(logits[base + j] - max);
        }
        float logSum = (float) Math.log(sum);
        float l = max + logSum;
        lse[t] = l;
        int y = targets[t];
        if (y < 0) {
            loss[t] = 0f;
        } else {
            loss[t] = (max - logits[base + y]) + logSum + zLossWeight * l * l;
        }
    }

    /** As {@link flexmoe.kernels.CrossEntropyKernels#backwardRow}, in place allowed. */
    static void crossEntropyBackwardRow(int t, float[] logits, int[] targets, float[] lse, int vocab,
                                        float zLossWeight, float[] scale, float[] dlogits) {
        int base = t * vocab;
        int y = targets[t];
        if (y < 0) {
            for (int j = 0; j < vocab; j++) {
                dlogits[base + j] = 0f;
            }
            return;
        }
        float l = lse[t];
        float s = scale[0];
        float c = 1f + 2f * zLossWeight * l;
        float xy = logits[base + y];
        int bound = SPECIES.loopBound(vocab);
        int j = 0;
        if (bound > 0) {
            FloatVector lv = FloatVector.broadcast(SPECIES, l);
            FloatVector sv = FloatVector.broadcast(SPECIES, s);
            FloatVector cv = FloatVector.broadcast(SPECIES, c);
            for (; j < bound; j += LANES) {
                FloatVector p = VectorMath.exp(FloatVector.fromArray(SPECIES, logits, base + j).sub(lv));
                sv.mul(p.mul(cv)).intoArray(dlogits, base + j);
            }
        }
        for (; j < vocab; j++) {
            float p = VectorMath.exp(logits[base + j] - l);
            dlogits[base + j] = s * (p * c);
        }
        float py = VectorMath.exp(xy - l);
        dlogits[base + y] = s * (py * c - 1f);
    }

    /**
     * As {@link flexmoe.kernels.RmsNormKernels#rmsnormRow}; in place ({@code y == x}) allowed. The sum of
     * squares is lane-wise fused multiply-adds, the fixed lane tree, then the tail with {@code Math.fma} in
     * order (the body adds left to right), so rstd and y differ from the body's by rounding.
     */
    static void rmsnormRow(int t, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] rstd,
                           int rstdOff, int dim, float eps) {
        int row = xOff + t * dim;
        int bound = SPECIES.loopBound(dim);
        int c = 0;
        float ss = 0f;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; c < bound; c += LANES) {
                FloatVector v = FloatVector.fromArray(SPECIES, x, row + c);
                acc = v.fma(v, acc);
            }
            ss = VectorMath.sumLanes(acc);
        }
        for (; c < dim; c++) {
            float v = x[row + c];
            ss = Math.fma(v, v, ss);
        }
        float r = 1f / (float) Math.sqrt(ss / dim + eps);
        int out = yOff + t * dim;
        c = 0;
        for (; c < bound; c += LANES) {
            FloatVector.fromArray(SPECIES, x, row + c).mul(r).mul(FloatVector.fromArray(SPECIES, w, wOff + c))
                    .intoArray(y, out + c);
        }
        for (; c < dim; c++) {
            y[out + c] = x[row + c] * r * w[wOff + c];
        }
        rstd[rstdOff + t] = r;
    }

    /**
     * As {@link flexmoe.kernels.RmsNormKernels#rmsnormBackwardRow} (dx row OVERWRITTEN); the dot
     * {@code sum dy w x} summed as in {@link #rmsnormRow}, the rest the body's arithmetic per element.
     */
    static void rmsnormBackwardRow(int t, float[] x, int xOff, float[] w, int wOff, float[] rstd, int rstdOff,
                                   float[] dy, int dyOff, float[] dx, int dxOff, int dim) {
        int row = xOff + t * dim;
        int grow = dyOff + t * dim;
        float r = rstd[rstdOff + t];
        int bound = SPECIES.loopBound(dim);
        int c = 0;
        float dot = 0f;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; c < bound; c += LANES) {
                FloatVector g = FloatVector.fromArray(SPECIES, dy, grow + c)
                        .mul(FloatVector.fromArray(SPECIES, w, wOff + c));
                acc = g.fma(FloatVector.fromArray(SPECIES, x, row + c), acc);
            }
            dot = VectorMath.sumLanes(acc);
        }
        for (; c < dim; c++) {
            dot = Math.fma(dy[grow + c] * w[wOff + c], x[row + c], dot);
        }
        float k = dot * r * r / dim;
        int out = dxOff + t * dim;
        c = 0;
        for (; c < bound; c += LANES) {
            FloatVector g = FloatVector.fromArray(SPECIES, dy, grow + c)
                    .mul(FloatVector.fromArray(SPECIES, w, wOff + c));
            g.sub(FloatVector.fromArray(SPECIES, x, row + c).mul(k)).mul(r).intoArray(dx, out + c);
        }
        for (; c < dim; c++) {
            dx[out + c] = r * (dy[grow + c] * w[wOff + c] - x[row + c] * k);
        }
    }

    /**
     * {@link AdamWKernels#step} for the elements {@code off + [start, end)}, bit-identical to it: the body's
     * operations in its order ({@code a * b + c} stays a multiply then an add, never an fma; the lerp branch
     * depends only on the holder, so it is chosen once). One pass, no temporaries: the step is memory-bound
     * (4 arrays read, 3 written).
     */
    static void adamw(int start, int end, float[] param, float[] grad, float[] m, float[] v, int off,
                      float[] hyper) {
        float decay = hyper[AdamWKernels.DECAY];
        float w = hyper[AdamWKernels.ONE_MINUS_BETA1];
        float beta2 = hyper[AdamWKernels.BETA2];
        float oneMinusBeta2 = hyper[AdamWKernels.ONE_MINUS_BETA2];
        float bc2Sqrt = hyper[AdamWKernels.BC2_SQRT];
        float eps = hyper[AdamWKernels.EPS];
        float stepSize = hyper[AdamWKernels.STEP_SIZE];
        boolean smallWeight = Math.abs(w) < 0.5f;
        float oneMinusW = 1f - w;
        int i = start;
        int bound = start + SPECIES.loopBound(end - start);
        for (; i < bound; i += LANES) {
            int k = off + i;
            FloatVector g = FloatVector.fromArray(SPECIES, grad, k);
            FloatVector p = FloatVector.fromArray(SPECIES, param, k).mul(decay);
            FloatVector mOld = FloatVector.fromArray(SPECIES, m, k);
            FloatVector mNew = smallWeight
                    ? mOld.add(g.sub(mOld).mul(w))
                    : g.sub(g.sub(mOld).mul(oneMinusW));
            FloatVector vNew = FloatVector.fromArray(SPECIES, v, k).mul(beta2).add(g.mul(oneMinusBeta2).mul(g));
            FloatVector denom = vNew.sqrt().div(bc2Sqrt).add(eps);
            mNew.intoArray(m, k);
            vNew.intoArray(v, k);
            p.sub(mNew.mul(stepSize).div(denom)).intoArray(param, k);
        }
        for (; i < end; i++) {
            AdamWKernels.step(i, param, grad, m, v, off, hyper);
        }
    }
}
