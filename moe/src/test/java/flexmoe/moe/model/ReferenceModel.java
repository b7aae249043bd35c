package flexmoe.moe.model;

/**
 * The whole FlexOlmo forward in plain float64 loops, written from the math (reference/FLEXOLMO.md, OLMo-2),
 * independently of the kernels: the yardstick for {@link FlexOlmoModel#forward} (llm.c checks its model
 * against a PyTorch dump the same way). Slow and obvious on purpose.
 */
final class ReferenceModel {

    /** Per-layer block outputs [T][D], per-layer top-k ids [T][k], and the loss parts. */
    record Result(double[][][] blockOutputs, int[][][] ids, double crossEntropy, double lmZLoss, double routerZLoss) {
        double total() {
            return crossEntropy + lmZLoss + routerZLoss;
        }
    }

    private ReferenceModel() {
    }

    static Result forward(Parameters p, TokenBatch batch) {
        ModelConfig c = p.config();
        int t = batch.tokens(), d = c.dim(), seq = batch.seq(), heads = c.heads(), hd = c.headDim();
        int f = c.ffnHidden(), experts = c.experts(), k = c.topK(), v = c.vocabSize();
        double eps = c.normEps();
        double[][] x = new double[t][];
        for (int i = 0; i < t; i++) {
            x[i] = row(p.embedding().data(), batch.inputs()[i], d);
        }
        double[][][] outputs = new double[c.layers()][][];
        int[][][] allIds = new int[c.layers()][][];
        double routerZ = 0;
        for (int l = 0; l < c.layers(); l++) {
            LayerParameters lp = p.layer(l);
            double[][] q = new double[t][], kk = new double[t][], vv = new double[t][];
            for (int i = 0; i < t; i++) {
                q[i] = rope(rmsnorm(linear(lp.qProj().data(), x[i], d, d), lp.qNorm().data(), eps), i % seq, heads,
                        hd, c.ropeTheta());
                kk[i] = rope(rmsnorm(linear(lp.kProj().data(), x[i], d, d), lp.kNorm().data(), eps), i % seq, heads,
                        hd, c.ropeTheta());
                vv[i] = linear(lp.vProj().data(), x[i], d, d);
            }
            double[][] h = new double[t][];
            for (int i = 0; i < t; i++) {
                int start = i - i % seq;
                double[] att = new double[d];
                for (int hh = 0; hh < heads; hh++) {
                    int o = hh * hd;
                    double max = Double.NEGATIVE_INFINITY;
                    double[] s = new double[i - start + 1];
                    for (int j = start; j <= i; j++) {
                        double dot = 0;
                        for (int e = 0; e < hd; e++) {
                            dot += q[i][o + e] * kk[j][o + e];
                        }
                        s[j - start] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j - start]);
                    }
                    double sum = 0;
                    for (int j = 0; j < s.length; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = start; j <= i; j++) {
                        for (int e = 0; e < hd; e++) {
                            att[o + e] += s[j - start] / sum * vv[j][o + e];
                        }
                    }
                }
                double[] normed = rmsnorm(linear(lp.oProj().data(), att, d, d), lp.postAttentionNorm().data(), eps);
                h[i] = add(x[i], normed);
            }
            int[][] ids = new int[t][k];
            double zsum = 0;
            double[][] out = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] m = new double[d];
                if (c.isDense()) {
                    m = expert(lp.expert(0), h[i], d, f);
                    ids[i][0] = 0;
                } else {
                    double[] logits = new double[experts];
                    for (int e = 0; e < experts; e++) {
                        ExpertLayer ex = lp.expert(e);
                        logits[e] = dot(ex.routerRow().data(), h[i]);
                        if (e >= 1) {
                            logits[e] += Math.min(ex.bias().data()[0], 0.0);
                        }
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (double z : logits) {
                        max = Math.max(max, z);
                    }
                    double sum = 0;
                    for (double z : logits) {
                        sum += Math.exp(z - max);
                    }
                    double lse = max + Math.log(sum);
                    zsum += lse * lse;
                    boolean[] taken = new boolean[experts];
                    for (int s = 0; s < k; s++) {
                        int best = -1;
                        for (int e = 0; e < experts; e++) {
                            if (!taken[e] && (best < 0 || logits[e] > logits[best])) {
                                best = e;
                            }
                        }
                        taken[best] = true;
                        ids[i][s] = best;
                        double gate = Math.exp(logits[best] - lse); // softmax over all experts, not renormalised
                        double[] y = expert(lp.expert(best), h[i], d, f);
                        for (int e = 0; e < d; e++) {
                            m[e] += gate * y[e];
                        }
                    }
                }
                out[i] = add(h[i], rmsnorm(m, lp.postFeedforwardNorm().data(), eps));
            }
            if (!c.isDense()) {
                routerZ += c.routerZLossWeight() * zsum / t;
            }
            outputs[l] = out;
            allIds[l] = ids;
            x = out;
        }
        double ce = 0, z = 0;
        int valid = 0;
        for (int i = 0; i < t; i++) {
            int target = batch.targets()[i];
            if (target < 0) {
                continue;
            }
            double[] logits = linear(p.lmHead().data(), rmsnorm(x[i], p.finalNorm().data(), eps), v, d);
            double max = Double.NEGATIVE_INFINITY;
            for (double zz : logits) {
                max = Math.max(max, zz);
            }
            double sum = 0;
            for (double zz : logits) {
                sum += Math.exp(zz - max);
            }
            double lse = max + Math.log(sum);
            ce += lse - logits[target];
            z += lse * lse;
            valid++;
        }
        double mean = valid == 0 ? 0 : ce / valid;
        double lmZ = valid == 0 ? 0 : c.lmHeadZLossWeight() * z / valid;
        return new Result(outputs, allIds, mean, lmZ, routerZ);
    }

    /** The SwiGLU expert {@code W2 (silu(W1 x) * W3 x)}, W1|W3 read from the fused [2F, D] tensor. */
    static double[] expert(ExpertLayer e, double[] x, int d, int f) {
        float[] gu = e.gateUp().data();
        double[] hidden = new double[f];
        for (int j = 0; j < f; j++) {
            double a = 0, u = 0;
            for (int i = 0; i < d; i++) {
                a += gu[j * d + i] * x[i];
                u += gu[(f + j) * d + i] * x[i];
            }
            hidden[j] = a / (1 + Math.exp(-a)) * u;
        }
        return linear(e.down().data(), hidden, d, f);
    }

    static double[] rmsnorm(double[] x, float[] w, double eps) {
        double ms = 0;
        for (double v : x) {
            ms += v * v;
        }
        double r = 1 / Math.sqrt(ms / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * r * w[i];
        }
        return y;
    }

    /** Rotate-half RoPE of each head at position {@code pos}: pairs (i, i + hd/2), angle pos·theta^(-2i/hd). */
    static double[] rope(double[] x, int pos, int heads, int hd, double theta) {
        double[] y = new double[x.length];
        int half = hd / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / hd);
                double c = Math.cos(angle), s = Math.sin(angle);
                double x1 = x[h * hd + i], x2 = x[h * hd + half + i];
                y[h * hd + i] = x1 * c - x2 * s;
                y[h * hd + half + i] = x2 * c + x1 * s;
            }
        }
        return y;
    }

    /** {@code W x} for W [out, in]. */
    static double[] linear(float[] w, double[] x, int out, int in) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += w[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < b.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = a[i] + b[i];
        }
        return y;
    }

    private static double[] row(float[] table, int r, int d) {
        double[] y = new double[d];
        for (int i = 0; i < d; i++) {
            y[i] = table[r * d + i];
        }
        return y;
    }
}
