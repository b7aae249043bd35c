package flexmoe.kernels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A quick run of every operation of a backend against the reference backend (the plain kernel bodies,
 * one thread) on the same seeded inputs, for users checking a machine or a device; the unit tests are the
 * thorough version. Shapes are small and deliberately odd (no multiple of a vector width).
 */
public final class KernelSelfCheck {

    /** One compared output: the largest |backend - reference| against a tolerance scaled to the values. */
    public record Result(String kernel, String output, double maxAbsError, double tolerance) {
        public boolean passed() {
            return maxAbsError <= tolerance;
        }
    }

    // Sequences, length, width, heads, FFN width, experts, active experts, vocabulary, examples.
    private static final int B = 2, S = 37, T = B * S, D = 48, H = 2, F = 40, E = 3, K = 2, V = 97;
    private static final int GM = 67, GN = 45, GK = 129;

    private KernelSelfCheck() {
    }

    /** Runs every operation on {@code backend} and on {@code reference} and compares all outputs. */
    public static List<Result> run(Backend backend, Backend reference, long seed) {
        Map<String, float[]> actual = outputs(backend, seed);
        Map<String, float[]> expected = outputs(reference, seed);
        List<Result> results = new ArrayList<>();
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            float[] ref = e.getValue();
            float[] got = actual.get(e.getKey());
            double scale = 0;
            for (float v : ref) {
                scale = Math.max(scale, Math.abs(v));
            }
            // float32 rounding in a different summation order (vector lanes, blocking), relative to the
            // output's magnitude; the longest sums here have 129 terms.
            double tolerance = 2e-5 * (1 + scale);
            String[] name = e.getKey().split("/", 2);
            results.add(new Result(name[0], name[1], maxAbsDiff(got, ref), tolerance));
        }
        return results;
    }

    /** Every operation once, on inputs regenerated from the seed; outputs by "group.operation/output". */
    private static Map<String, float[]> outputs(Backend be, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> out = new LinkedHashMap<>();

        // GEMM, each layout overwriting and then accumulating into the result.
        float[] a = random(rng, GM * GK, 1);
        float[] b = random(rng, GK * GN, 1);
        float[] c = new float[GM * GN];
        be.gemm().matmul(a, 0, b, 0, c, 0, GM, GN, GK, false);
        be.gemm().matmul(a, 0, b, 0, c, 0, GM, GN, GK, true);
        out.put("gemm.matmul/c", c.clone());
        be.gemm().matmulNT(a, 0, b, 0, c, 0, GM, GN, GK, false);
        be.gemm().matmulNT(a, 0, b, 0, c, 0, GM, GN, GK, true);
        out.put("gemm.matmulNT/c", c.clone());
        be.gemm().matmulTN(a, 0, b, 0, c, 0, GM, GN, GK, false);
        be.gemm().matmulTN(a, 0, b, 0, c, 0, GM, GN, GK, true);
        out.put("gemm.matmulTN/c", c.clone());

        TransformerOps tr = be.transformer();
        int[] ids = ints(rng, T, V);
        float[] table = random(rng, V * D, 1);
        float[] x = new float[T * D];
        tr.embeddingForward(ids, 0, table, 0, x, 0, T, V, D);
        out.put("transformer.embeddingForward/out", x.clone());
        float[] dTable = new float[V * D];
        tr.embeddingBackward(ids, 0, random(rng, T * D, 1), 0, dTable, 0, T, V, D);
        out.put("transformer.embeddingBackward/dTable", dTable);

        float[] w = random(rng, D, 1);
        float[] y = new float[T * D];
        float[] rstd = new float[T];
        tr.rmsnormForward(x, 0, w, 0, y, 0, rstd, 0, T, D, 1e-6f);
        out.put("transformer.rmsnormForward/y", y.clone());
        out.put("transformer.rmsnormForward/rstd", rstd);
        float[] dx = new float[T * D];
        float[] dw = new float[D];
        tr.rmsnormBackward(x, 0, w, 0, rstd, 0, random(rng, T * D, 1), 0, dx, 0, dw, 0, T, D);
        out.put("transformer.rmsnormBackward/dx", dx.clone());
        out.put("transformer.rmsnormBackward/dw", dw);

        int hd = D / H;
        float[] cos = new float[S * hd / 2];
        float[] sin = new float[S * hd / 2];
        tr.ropeTables(cos, sin, S, hd, 10000f);
        out.put("transformer.ropeTables/cos", cos);
        out.put("transformer.ropeTables/sin", sin);
        int[] pos = new int[T];
        for (int t = 0; t < T; t++) {
            pos[t] = t % S;
        }
        float[] roped = new float[T * D];
        tr.ropeForward(y, 0, roped, 0, pos, 0, cos, sin, T, D, H, S);
        out.put("transformer.ropeForward/y", roped);
        tr.ropeBackward(random(rng, T * D, 1), 0, dx, 0, pos, 0, cos, sin, T, D, H, S);
        out.put("transformer.ropeBackward/dx", dx.clone());

        float[] q = random(rng, T * D, 1);
        float[] k = random(rng, T * D, 1);
        float[] v = random(rng, T * D, 1);
        float[] att = new float[T * D];
        float[] lse = new float[B * H * S];
        tr.attentionForward(q, 0, k, 0, v, 0, att, 0, lse, 0, B, S, D, H);
        out.put("transformer.attentionForward/out", att);
        out.put("transformer.attentionForward/lse", lse);
        // KV-cache decoding: the last Q rows of each sequence as new queries against the keys as a cache whose
        // capacity (S + 3) exceeds the filled rows.
        int qs = 5, cap = S + 3;
        float[] qNew = new float[B * qs * D];
        float[] kCache = new float[B * cap * D];
        float[] vCache = new float[B * cap * D];
        for (int s = 0; s < B; s++) {
            System.arraycopy(q, (s * S + S - qs) * D, qNew, s * qs * D, qs * D);
            System.arraycopy(k, s * S * D, kCache, s * cap * D, S * D);
            System.arraycopy(v, s * S * D, vCache, s * cap * D, S * D);
        }
        float[] decoded = new float[B * qs * D];
        float[] decodedLse = new float[B * H * qs];
        tr.attentionDecode(qNew, 0, kCache, 0, vCache, 0, decoded, 0, decodedLse, 0, B, qs, cap, D, H, S - qs);
        out.put("transformer.attentionDecode/out", decoded);
        out.put("transformer.attentionDecode/lse", decodedLse);
        float[] dq = new float[T * D];
        float[] dk = new float[T * D];
        float[] dv = new float[T * D];
        tr.attentionBackward(q, 0, k, 0, v, 0, att, 0, lse, 0, random(rng, T * D, 1), 0, new float[B * H * S], 0,
                dq, 0, dk, 0, dv, 0, B, S, D, H);
        out.put("transformer.attentionBackward/dq", dq);
        out.put("transformer.attentionBackward/dk", dk);
        out.put("transformer.attentionBackward/dv", dv);

        float[] probs = new float[T * V];
        tr.softmaxForward(random(rng, T * V, 4), 0, probs, 0, T, V);
        out.put("transformer.softmaxForward/y", probs.clone());
        float[] dLogitsV = new float[T * V];
        tr.softmaxBackward(probs, 0, random(rng, T * V, 1), 0, dLogitsV, 0, T, V);
        out.put("transformer.softmaxBackward/dx", dLogitsV);
        float[] sum = new float[T * D];
        tr.add(q, 0, k, 0, sum, 0, T * D);
        out.put("transformer.add/out", sum.clone());
        tr.scale(sum, 0, 0.37f, sum, 0, T * D);
        out.put("transformer.scale/out", sum);

        MoeOps moe = be.moe();
        float[] gu = random(rng, T * 2 * F, 3);
        float[] hAct = new float[T * F];
        moe.swigluFusedForward(gu, 0, hAct, 0, T, F);
        out.put("moe.swigluFusedForward/h", hAct.clone());
        float[] dh = random(rng, T * F, 1);
        float[] dGu = new float[T * 2 * F];
        moe.swigluFusedBackward(gu, 0, dh, 0, dGu, 0, T, F);
        out.put("moe.swigluFusedBackward/dGu", dGu);
        moe.swigluForward(gu, 0, gu, T * F, hAct, 0, T, F);
        out.put("moe.swigluForward/h", hAct);
        float[] da = new float[T * F];
        float[] du = new float[T * F];
        moe.swigluBackward(gu, 0, gu, T * F, dh, 0, da, 0, du, 0, T, F);
        out.put("moe.swigluBackward/da", da);
        out.put("moe.swigluBackward/du", du);

        float[] r = random(rng, E * D, 1);
        float[] bias = {0f, -0.3f, 0.2f};
        float[] rProbs = new float[T * E];
        float[] rLse = new float[T];
        int[] experts = new int[T * K];
        float[] gates = new float[T * K];
        moe.routerForward(y, 0, r, 0, bias, 0, rProbs, 0, rLse, 0, experts, 0, gates, 0, T, D, E, K);
        out.put("moe.routerForward/probs", rProbs);
        out.put("moe.routerForward/lse", rLse);
        out.put("moe.routerForward/ids", toFloat(experts));
        out.put("moe.routerForward/gates", gates);
        out.put("moe.routerZLoss/value", new float[] {moe.routerZLoss(rLse, 0, T, 1e-3f)});
        float[] dLogits = new float[T * E];
        moe.routerLogitsBackward(rProbs, 0, rLse, 0, experts, 0, random(rng, T * K, 1), 0, 1e-3f, dLogits, 0, T, E,
                K);
        out.put("moe.routerLogitsBackward/dLogits", dLogits);
        float[] dH = new float[T * D];
        float[] dR = new float[E * D];
        float[] db = new float[E];
        moe.routerLinearBackward(dLogits, 0, y, 0, r, 0, bias, 0, dH, 0, dR, 0, db, 0, T, D, E);
        out.put("moe.routerLinearBackward/dH", dH);
        out.put("moe.routerLinearBackward/dR", dR);
        out.put("moe.routerLinearBackward/db", db);

        int[] counts = new int[E];
        int[] offsets = new int[E + 1];
        int[] slotRow = new int[T * K];
        int[] rowToken = new int[T * K];
        moe.dispatchPlan(experts, 0, T, E, K, counts, 0, offsets, 0, slotRow, 0, rowToken, 0);
        out.put("moe.dispatchPlan/slotRow", toFloat(slotRow));
        out.put("moe.dispatchPlan/rowToken", toFloat(rowToken));
        float[] xe = new float[T * K * D];
        moe.gather(y, 0, rowToken, 0, xe, 0, T, D, K);
        out.put("moe.gather/xe", xe);
        float[] ye = random(rng, T * K * D, 1);
        float[] mixed = new float[T * D];
        moe.combine(ye, 0, slotRow, 0, gates, 0, mixed, 0, T, D, K);
        out.put("moe.combine/y", mixed);
        float[] dYe = new float[T * K * D];
        float[] dGate = new float[T * K];
        moe.combineBackward(random(rng, T * D, 1), 0, ye, 0, gates, 0, slotRow, 0, rowToken, 0, dYe, 0, dGate, 0,
                T, D, K);
        out.put("moe.combineBackward/dYe", dYe.clone());
        out.put("moe.combineBackward/dGate", dGate);
        float[] dhGather = new float[T * D];
        moe.gatherBackward(dYe, 0, slotRow, 0, dhGather, 0, T, D, K);
        out.put("moe.gatherBackward/dh", dhGather);

        TrainingOps training = be.training();
        float[] logits = random(rng, T * V, 5);
        int[] targets = ints(rng, T, V);
        targets[3] = -1;
        float[] loss = new float[T];
        float[] ceLse = new float[T];
        training.crossEntropyForward(logits, targets, T, V, 1e-5f, loss, ceLse);
        out.put("training.crossEntropyForward/loss", loss);
        out.put("training.crossEntropyForward/lse", ceLse);
        out.put("training.meanLoss/value", new float[] {(float) training.meanLoss(loss, targets, T)});
        float[] dLogitsCe = new float[T * V];
        training.crossEntropyBackward(logits, targets, ceLse, T, V, 1e-5f,
                new float[] {1f / TrainingOps.validTokens(targets, T)}, dLogitsCe);
        out.put("training.crossEntropyBackward/dlogits", dLogitsCe);

        float[] param = random(rng, 1000, 1);
        float[] grad = random(rng, 1000, 1);
        float[] m = new float[1000];
        float[] v2 = new float[1000];
        float[] hyper = new float[7];
        for (int step = 1; step <= 3; step++) {
            TrainingOps.adamwHyper(hyper, 1e-2, 0.9, 0.95, 1e-8, 0.1, step);
            training.adamwStep(param, grad, m, v2, 0, 1000, hyper);
        }
        out.put("training.adamwStep/param", param);
        out.put("training.adamwStep/m", m);
        out.put("training.adamwStep/v", v2);
        float[] g1 = random(rng, 5000, 1);
        float[] g2 = random(rng, 333, 1);
        out.put("training.sumSquares/value", new float[] {(float) training.sumSquares(g1, 0, 5000)});
        out.put("training.globalNorm/value", new float[] {(float) training.globalNorm(new float[][] {g1, g2})});
        out.put("training.clipGradNorm/norm", new float[] {(float) training.clipGradNorm(new float[][] {g1, g2}, 1.0)});
        out.put("training.clipGradNorm/grad", g1);
        training.scale(g2, 0, 333, new float[] {0.5f});
        out.put("training.scale/x", g2);

        // Four examples over T rows, one of them empty; dense and router-row (dout = 1) cases.
        int[] seg = {0, 20, 20, 51, T};
        float[] ga = random(rng, T * D, 1);
        float[] gg = random(rng, T * F, 1);
        float[] norm2 = new float[4];
        float[] scratch = new float[(int) TrainingOps.directScratchSize(4, D, F)];
        training.ghostNorm2(ga, 0, gg, 0, T, D, F, seg, 4, norm2, false, new float[T]);
        out.put("training.ghostNorm2/norm2", norm2.clone());
        training.directNorm2(ga, 0, gg, 0, T, D, F, seg, 4, norm2, false, scratch);
        out.put("training.directNorm2/norm2", norm2);
        return out;
    }

    private static float[] random(SplittableRandom rng, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }

    private static int[] ints(SplittableRandom rng, int n, int bound) {
        int[] x = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextInt(bound);
        }
        return x;
    }

    private static float[] toFloat(int[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = x[i];
        }
        return f;
    }

    /** Largest |a - b|; NaN anywhere counts as infinitely wrong. */
    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (!(d <= max)) {
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }
}
