package flexmoe.moe.model;

import flexmoe.kernels.Backend;
import flexmoe.kernels.GemmOps;
import flexmoe.kernels.MoeOps;
import flexmoe.kernels.TrainingOps;
import flexmoe.kernels.TransformerOps;
import java.util.Arrays;
import java.util.List;

/**
 * A FlexOlmo model: OLMo-2 post-norm blocks with a mixture of SwiGLU experts, forward and backward written out
 * layer by layer as in llm.c, every FLOP through the {@link Backend}'s operations.
 *
 * <p>Per block, with x its input ({@code [T, D]}, T = B * S tokens):
 * <pre>
 *   q, k, v = x Wqᵀ, x Wkᵀ, x Wvᵀ;  q = RMSNorm(q; q_norm), k = RMSNorm(k; k_norm)   (over all of D)
 *   q, k = RoPE(q, k) at positions 0..S-1 of each sequence;  a = causal attention(q, k, v)
 *   h = x + RMSNorm(a Woᵀ; post_attention_layernorm)
 *   m = MoE(h);  out = h + RMSNorm(m; post_feedforward_layernorm)
 * </pre>
 * MoE(h): router logits {@code l_e = r_e·h + min(b_e, 0)} (e >= 1), softmax over all experts, top-k, gates
 * not renormalised; dropless dispatch; per expert with rows, {@code ye = swiglu(xe W13ᵀ) W2ᵀ}; combine. The
 * dense model (one expert) has no router: {@code m = swiglu(h W13ᵀ) W2ᵀ} directly.
 * Then a final RMSNorm and the untied LM head. The loss is {@link Loss}.
 *
 * <p>Backward: parameter gradients accumulate into the trainable tensors' buffers (zero them once per step).
 * Work for frozen tensors is skipped, not discarded: no weight-gradient GEMM for a frozen weight, no expert
 * backward at all for a frozen expert where nothing below needs the input gradient, no router backward when
 * the router is frozen and nothing below trains, and the backward stops below the lowest layer that trains
 * (in expert training the attention of layer 0 never runs backward). The gradients that are computed are
 * the same operations in the same order whatever is frozen, so they match the full backward bit for bit.
 *
 * <p>Activations are allocated at the first forward of a (B, S) shape and reused (see {@link Activations}).
 * Not thread-safe: one model object serves one training loop.
 */
public final class FlexOlmoModel {

    private final Parameters params;
    private final ModelConfig config;
    private final Backend backend;
    private final float[] ropeCos;
    private final float[] ropeSin;

    private Activations act;
    private int[] inputs;
    private int[] targets;
    private boolean backwardAllowed;
    private boolean logitsValid;
    private int validTokens;

    public FlexOlmoModel(Parameters params, Backend backend) {
        if (params == null || backend == null) {
            throw new IllegalArgumentException("FlexOlmoModel: parameters and backend are required");
        }
        this.params = params;
        this.config = params.config();
        this.backend = backend;
        int half = config.headDim() / 2;
        this.ropeCos = new float[config.maxSeqLen() * half];
        this.ropeSin = new float[config.maxSeqLen() * half];
        backend.transformer().ropeTables(ropeCos, ropeSin, config.maxSeqLen(), config.headDim(),
                (float) config.ropeTheta());
    }

    public Parameters parameters() {
        return params;
    }

    public ModelConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** {@link #forward(TokenBatch)} of {@code new TokenBatch(inputs, targets, batch, seq)}. */
    public Loss forward(int[] inputs, int[] targets, int batch, int seq) {
        return forward(new TokenBatch(inputs, targets, batch, seq));
    }

    /**
     * Runs the model on a batch, keeping what the backward needs. Returns the loss, or null when the batch has
     * no targets. Ids must be in the vocabulary, targets in [-1, V), S at most maxSeqLen.
     */
    public Loss forward(TokenBatch batch) {
        validate(batch);
        int b = batch.batch(), s = batch.seq(), t = batch.tokens();
        int v = config.vocabSize(), d = config.dim();
        if (act == null || act.batch != b || act.seq != s) {
            act = null; // let the old buffers go before the new ones are allocated
            act = new Activations(config, b, s);
        }
        this.inputs = batch.inputs();
        this.targets = batch.targets();
        this.backwardAllowed = false;
        TransformerOps tr = backend.transformer();

        tr.embeddingForward(inputs, 0, params.embedding().data(), 0, act.residual[0], 0, t, v, d);
        Activations shapes = act;
        AttentionStep attention = (l, a) -> tr.attentionForward(a.qRot, 0, a.kRot, 0, a.v, 0, a.attention, 0,
                a.attentionLse, 0, shapes.batch, shapes.seq, d, config.heads());
        Projection projection = stored(backend);
        for (int l = 0; l < config.layers(); l++) {
            blockForward(l, act.layers[l], act.residual[l], act.residual[l + 1], t, act.pos, attention, projection);
        }
        float[] last = act.residual[config.layers()];
        tr.rmsnormForward(last, 0, params.finalNorm().data(), 0, act.finalNormed, 0, act.finalRstd, 0, t, d,
                (float) config.normEps());
        backend.gemm().matmulNT(act.finalNormed, 0, params.lmHead().data(), 0, act.logits, 0, t, v, d, false);
        logitsValid = true;
        if (targets == null) {
            return null;
        }

        TrainingOps training = backend.training();
        float lmZ = (float) config.lmHeadZLossWeight();
        training.crossEntropyForward(act.logits, targets, t, v, lmZ, act.tokenLoss, act.lmLse);
        validTokens = TrainingOps.validTokens(targets, t);
        double ceWithZ = training.meanLoss(act.tokenLoss, targets, t);
        // The kernel folds the LM z-loss into each token's loss; split it out for reporting (host bookkeeping
        // over T values, in double).
        double lmZLoss = 0;
        if (lmZ > 0 && validTokens > 0) {
            double sum = 0;
            for (int i = 0; i < t; i++) {
                if (targets[i] != TokenBatch.IGNORE) {
                    double l = act.lmLse[i];
                    sum += l * l;
                }
            }
            lmZLoss = lmZ * sum / validTokens;
        }
        double routerZ = 0;
        if (!config.isDense()) {
            for (Activations.Layer layer : act.layers) {
                routerZ += layer.routerZLoss;
            }
        }
        backwardAllowed = true;
        return new Loss(ceWithZ + routerZ, ceWithZ - lmZLoss, lmZLoss, routerZ, validTokens);
    }

    /** {@link #forward(TokenBatch)} then {@link #backward()}. */
    public Loss forwardBackward(TokenBatch batch) {
        if (batch.targets() == null) {
            throw new IllegalArgumentException("forwardBackward: the batch has no targets");
        }
        Loss loss = forward(batch);
        backward();
        return loss;
    }

    /**
     * Accumulates dLoss/dθ of the last forward into the trainable tensors' gradient buffers. Allowed once per
     * forward with targets (it turns the saved logits into their gradient in place).
     */
    public void backward() {
        if (!backwardAllowed) {
            throw new IllegalStateException("backward: needs a forward with targets first (one backward per forward)");
        }
        backwardAllowed = false;
        logitsValid = false; // the backward turns the logits into their gradient in place
        TrainingPlan plan = TrainingPlan.of(params);
        if (!plan.any) {
            return;
        }
        int t = act.tokens, v = config.vocabSize(), d = config.dim();
        GemmOps gemm = backend.gemm();
        Arrays.fill(act.frozenNormSink, 0f);

        act.lossScale[0] = validTokens == 0 ? 0f : 1f / validTokens;
        float[] dLogits = act.logits; // in place: the logits are not needed any more
        backend.training().crossEntropyBackward(act.logits, targets, act.lmLse, t, v,
                (float) config.lmHeadZLossWeight(), act.lossScale, dLogits);
        Tensor head = params.lmHead();
        if (head.trainable()) {
            gemm.matmulTN(dLogits, 0, act.finalNormed, 0, head.grad(), 0, v, d, t, true);
        }
        if (!plan.belowHead) {
            return;
        }
        gemm.matmul(dLogits, 0, head.data(), 0, act.dNormIn, 0, t, d, v, false);
        backend.transformer().rmsnormBackward(act.residual[config.layers()], 0, params.finalNorm().data(), 0,
                act.finalRstd, 0, act.dNormIn, 0, act.dResidual, 0, gradOrSink(params.finalNorm()), 0, t, d);
        for (int l = config.layers() - 1; l >= 0 && plan.layerNeeded(l); l--) {
            blockBackward(l, plan);
        }
        Tensor embedding = params.embedding();
        if (embedding.trainable()) {
            backend.transformer().embeddingBackward(inputs, 0, act.dResidual, 0, embedding.grad(), 0, t, v, d);
        }
    }

    // ---- one block ------------------------------------------------------------------------------

    /**
     * The attention of a block's t tokens: a.attention (and a.attentionLse) from a.qRot, a.kRot (after QK-norm
     * and RoPE) and a.v. Training attends within each sequence of the batch; {@link InferenceSession} appends
     * the new keys and values to its cache and attends to the cache.
     */
    @FunctionalInterface
    interface AttentionStep {
        void run(int layer, Activations.Layer a);
    }

    /**
     * {@code y[rows, out] = x[rows, in] Wᵀ} for a weight W [out, in]: how a block's forward applies its weights.
     * Training multiplies by W as stored ({@link #stored}); {@link InferenceSession} by a transposed copy, which
     * lets one-row products skip packing. Both give every element the same bits (the GEMM's per-element
     * arithmetic does not depend on the layout).
     */
    @FunctionalInterface
    interface Projection {
        void apply(float[] x, int xOff, Tensor w, float[] y, int yOff, int rows, int out, int in);
    }

    /** The projection by W as stored ({@code x Wᵀ}, the A·Bᵀ layout). */
    static Projection stored(Backend backend) {
        GemmOps gemm = backend.gemm();
        return (x, xOff, w, y, yOff, rows, out, in) -> gemm.matmulNT(x, xOff, w.data(), 0, y, yOff, rows, out, in,
                false);
    }

    /**
     * Block l over t tokens at positions pos: x in, out written (out may be x: x is last read before the FFN).
     * The one block forward of both the training forward and {@link InferenceSession}, so a cached decode
     * runs the training forward's operations in its order.
     */
    void blockForward(int l, Activations.Layer a, float[] x, float[] out, int t, int[] pos, AttentionStep attention,
                      Projection proj) {
        LayerParameters p = params.layer(l);
        int d = config.dim(), h = config.heads();
        float eps = (float) config.normEps();
        TransformerOps tr = backend.transformer();

        proj.apply(x, 0, p.qProj(), a.qRaw, 0, t, d, d);
        proj.apply(x, 0, p.kProj(), a.kRaw, 0, t, d, d);
        proj.apply(x, 0, p.vProj(), a.v, 0, t, d, d);
        // OLMo-2 QK-norm normalises the whole projection, not each head (so a new token needs nothing cached).
        tr.rmsnormForward(a.qRaw, 0, p.qNorm().data(), 0, a.qRot, 0, a.rstdQ, 0, t, d, eps);
        tr.rmsnormForward(a.kRaw, 0, p.kNorm().data(), 0, a.kRot, 0, a.rstdK, 0, t, d, eps);
        tr.ropeForward(a.qRot, 0, a.qRot, 0, pos, 0, ropeCos, ropeSin, t, d, h, config.maxSeqLen());
        tr.ropeForward(a.kRot, 0, a.kRot, 0, pos, 0, ropeCos, ropeSin, t, d, h, config.maxSeqLen());
        attention.run(l, a);
        proj.apply(a.attention, 0, p.oProj(), a.o, 0, t, d, d);
        tr.rmsnormForward(a.o, 0, p.postAttentionNorm().data(), 0, a.h, 0, a.rstdO, 0, t, d, eps);
        tr.add(x, 0, a.h, 0, a.h, 0, t * d);

        if (config.isDense()) {
            denseFfnForward(p.expert(0), a, t, proj);
        } else {
            moeForward(p, a, t, proj);
        }
        tr.rmsnormForward(a.m, 0, p.postFeedforwardNorm().data(), 0, out, 0, a.rstdM, 0, t, d, eps);
        tr.add(a.h, 0, out, 0, out, 0, t * d);
    }

    private void blockBackward(int l, TrainingPlan plan) {
        LayerParameters p = params.layer(l);
        Activations.Layer a = act.layers[l];
        float[] x = act.residual[l];
        int t = act.tokens, d = config.dim(), h = config.heads();
        GemmOps gemm = backend.gemm();
        TransformerOps tr = backend.transformer();
        boolean below = plan.below(l);
        boolean attentionNeeded = below || plan.attentionTrains(l);
        float[] dRes = act.dResidual;

        // out = h + RMSNorm(m): dRes (dL/dout) is also the residual part of dL/dh; router and gather add the rest.
        tr.rmsnormBackward(a.m, 0, p.postFeedforwardNorm().data(), 0, a.rstdM, 0, dRes, 0, act.dNormIn, 0,
                gradOrSink(p.postFeedforwardNorm()), 0, t, d);
        if (config.isDense()) {
            denseFfnBackward(p.expert(0), a, attentionNeeded);
        } else {
            moeBackward(p, a, attentionNeeded);
        }
        if (!attentionNeeded) {
            return;
        }

        // h = x + RMSNorm(o): dRes now holds dL/dh, which is also the residual part of dL/dx.
        tr.rmsnormBackward(a.o, 0, p.postAttentionNorm().data(), 0, a.rstdO, 0, dRes, 0, act.dNormIn, 0,
                gradOrSink(p.postAttentionNorm()), 0, t, d);
        gemm.matmul(act.dNormIn, 0, p.oProj().data(), 0, act.dAttention, 0, t, d, d, false);
        weightGrad(p.oProj(), act.dNormIn, a.attention, d, d);
        tr.attentionBackward(a.qRot, 0, a.kRot, 0, a.v, 0, a.attention, 0, a.attentionLse, 0, act.dAttention, 0,
                act.delta, 0, act.dq, 0, act.dk, 0, act.dv, 0, act.batch, act.seq, d, h);
        tr.ropeBackward(act.dq, 0, act.dq, 0, act.pos, 0, ropeCos, ropeSin, t, d, h, config.maxSeqLen());
        tr.ropeBackward(act.dk, 0, act.dk, 0, act.pos, 0, ropeCos, ropeSin, t, d, h, config.maxSeqLen());
        tr.rmsnormBackward(a.qRaw, 0, p.qNorm().data(), 0, a.rstdQ, 0, act.dq, 0, act.dqRaw, 0, gradOrSink(p.qNorm()),
                0, t, d);
        tr.rmsnormBackward(a.kRaw, 0, p.kNorm().data(), 0, a.rstdK, 0, act.dk, 0, act.dkRaw, 0, gradOrSink(p.kNorm()),
                0, t, d);
        weightGrad(p.qProj(), act.dqRaw, x, d, d);
        weightGrad(p.kProj(), act.dkRaw, x, d, d);
        weightGrad(p.vProj(), act.dv, x, d, d);
        if (below) {
            gemm.matmul(act.dqRaw, 0, p.qProj().data(), 0, dRes, 0, t, d, d, true);
            gemm.matmul(act.dkRaw, 0, p.kProj().data(), 0, dRes, 0, t, d, d, true);
            gemm.matmul(act.dv, 0, p.vProj().data(), 0, dRes, 0, t, d, d, true);
        }
    }

    // ---- the FFN / MoE layer --------------------------------------------------------------------------

    private void denseFfnForward(ExpertLayer e, Activations.Layer a, int t, Projection proj) {
        int d = config.dim(), f = config.ffnHidden();
        proj.apply(a.h, 0, e.gateUp(), a.gateUp, 0, t, 2 * f, d);
        backend.moe().swigluFusedForward(a.gateUp, 0, a.hidden, 0, t, f);
        proj.apply(a.hidden, 0, e.down(), a.m, 0, t, d, f);
    }

    /** dNormIn holds dL/dm; adds dL/dh into dResidual when {@code inputNeeded}. */
    private void denseFfnBackward(ExpertLayer e, Activations.Layer a, boolean inputNeeded) {
        int t = act.tokens, d = config.dim(), f = config.ffnHidden();
        GemmOps gemm = backend.gemm();
        weightGrad(e.down(), act.dNormIn, a.hidden, d, f);
        if (!e.gateUp().trainable() && !inputNeeded) {
            return;
        }
        gemm.matmul(act.dNormIn, 0, e.down().data(), 0, act.dHidden, 0, t, f, d, false);
        backend.moe().swigluFusedBackward(a.gateUp, 0, act.dHidden, 0, act.dGateUp, 0, t, f);
        weightGrad(e.gateUp(), act.dGateUp, a.h, 2 * f, d);
        if (inputNeeded) {
            gemm.matmul(act.dGateUp, 0, e.gateUp().data(), 0, act.dResidual, 0, t, d, 2 * f, true);
        }
    }

    private void moeForward(LayerParameters p, Activations.Layer a, int t, Projection proj) {
        int d = config.dim(), f = config.ffnHidden(), experts = config.experts(), k = config.topK();
        MoeOps moe = backend.moe();
        p.packRouter(a.routerPacked, a.biasPacked);
        moe.routerForward(a.h, 0, a.routerPacked, 0, a.biasPacked, 0, a.probs, 0, a.routerLse, 0, a.ids, 0,
                a.gates, 0, t, d, experts, k);
        moe.dispatchPlan(a.ids, 0, t, experts, k, a.counts, 0, a.offsets, 0, a.slotRow, 0, a.rowToken, 0);
        moe.gather(a.h, 0, a.rowToken, 0, a.xe, 0, t, d, k);
        for (int e = 0; e < experts; e++) {
            int r0 = a.offsets[e], n = a.offsets[e + 1] - r0;
            if (n == 0) {
                continue; // an expert no token chose: GEMMs need at least one row
            }
            ExpertLayer x = p.expert(e);
            proj.apply(a.xe, r0 * d, x.gateUp(), a.gateUp, r0 * 2 * f, n, 2 * f, d);
            moe.swigluFusedForward(a.gateUp, r0 * 2 * f, a.hidden, r0 * f, n, f);
            proj.apply(a.hidden, r0 * f, x.down(), a.ye, r0 * d, n, d, f);
        }
        moe.combine(a.ye, 0, a.slotRow, 0, a.gates, 0, a.m, 0, t, d, k);
        a.routerZLoss = moe.routerZLoss(a.routerLse, 0, t, (float) config.routerZLossWeight());
    }

    /** dNormIn holds dL/dm; adds dL/dh into dResidual when {@code inputNeeded}. */
    private void moeBackward(LayerParameters p, Activations.Layer a, boolean inputNeeded) {
        int t = act.tokens, d = config.dim(), f = config.ffnHidden(), experts = config.experts(), k = config.topK();
        GemmOps gemm = backend.gemm();
        MoeOps moe = backend.moe();
        moe.combineBackward(act.dNormIn, 0, a.ye, 0, a.gates, 0, a.slotRow, 0, a.rowToken, 0, act.dExpertOut, 0,
                act.dGate, 0, t, d, k);
        for (int e = 0; e < experts; e++) {
            int r0 = a.offsets[e], n = a.offsets[e + 1] - r0;
            ExpertLayer x = p.expert(e);
            if (n == 0) {
                continue;
            }
            if (x.down().trainable()) {
                gemm.matmulTN(act.dExpertOut, r0 * d, a.hidden, r0 * f, x.down().grad(), 0, d, f, n, true);
            }
            if (!x.gateUp().trainable() && !inputNeeded) {
                continue; // a frozen expert at the lowest trained layer: nothing needs its backward
            }
            gemm.matmul(act.dExpertOut, r0 * d, x.down().data(), 0, act.dHidden, r0 * f, n, f, d, false);
            moe.swigluFusedBackward(a.gateUp, r0 * 2 * f, act.dHidden, r0 * f, act.dGateUp, r0 * 2 * f, n, f);
            if (x.gateUp().trainable()) {
                gemm.matmulTN(act.dGateUp, r0 * 2 * f, a.xe, r0 * d, x.gateUp().grad(), 0, 2 * f, d, n, true);
            }
            if (inputNeeded) {
                gemm.matmul(act.dGateUp, r0 * 2 * f, x.gateUp().data(), 0, act.dExpertIn, r0 * d, n, d, 2 * f, false);
            }
        }
        if (inputNeeded) {
            moe.gatherBackward(act.dExpertIn, 0, a.slotRow, 0, act.dResidual, 0, t, d, k);
        }
        boolean routerTrains = false;
        for (ExpertLayer x : p.experts()) {
            routerTrains |= x.routerRow().trainable() || (x.bias() != null && x.bias().trainable());
        }
        if (!routerTrains && !inputNeeded) {
            return;
        }
        moe.routerLogitsBackward(a.probs, 0, a.routerLse, 0, a.ids, 0, act.dGate, 0,
                (float) config.routerZLossWeight(), act.dLogits, 0, t, experts, k);
        // The kernel wants the router as one [E, D] matrix; per-expert rows receive their slice.
        Arrays.fill(act.dRouter, 0f);
        Arrays.fill(act.dBias, 0f);
        moe.routerLinearBackward(act.dLogits, 0, a.h, 0, a.routerPacked, 0, a.biasPacked, 0, act.dResidual, 0,
                act.dRouter, 0, act.dBias, 0, t, d, experts);
        TransformerOps tr = backend.transformer();
        for (int e = 0; e < experts; e++) {
            ExpertLayer x = p.expert(e);
            if (x.routerRow().trainable()) {
                tr.add(x.routerRow().grad(), 0, act.dRouter, e * d, x.routerRow().grad(), 0, d);
            }
            if (x.bias() != null && x.bias().trainable()) {
                tr.add(x.bias().grad(), 0, act.dBias, e, x.bias().grad(), 0, 1);
            }
        }
    }

    /** {@code W.grad [out, in] += dY[T, out]ᵀ X[T, in]} for a trainable W; nothing for a frozen one. */
    private void weightGrad(Tensor w, float[] dy, float[] x, int out, int in) {
        if (w.trainable()) {
            backend.gemm().matmulTN(dy, 0, x, 0, w.grad(), 0, out, in, act.tokens, true);
        }
    }

    private float[] gradOrSink(Tensor norm) {
        return norm.trainable() ? norm.grad() : act.frozenNormSink;
    }

    /**
     * The LM-head logits of the last forward, [T, V] row-major (a copy). Not available after a backward, which
     * reuses the buffer for the logits' gradient.
     */
    public float[] logits() {
        requireForward("logits");
        if (!logitsValid) {
            throw new IllegalStateException("logits: the backward has overwritten them; run a forward first");
        }
        return act.logits.clone();
    }

    // ---- routing statistics -----------------------------------------------------------------------------

    /**
     * The top-k expert ids of the last forward in layer {@code layer}, [T, k] in descending router logit
     * (a copy). All zeros for the dense model.
     */
    public int[] topKIds(int layer) {
        requireForward("topKIds");
        checkLayer("topKIds", layer);
        if (config.isDense()) {
            return new int[act.tokens];
        }
        return act.layers[layer].ids.clone();
    }

    /** The router probabilities of the last forward in layer {@code layer}, [T, E] (a copy; MoE only). */
    public float[] routerProbs(int layer) {
        requireForward("routerProbs");
        checkLayer("routerProbs", layer);
        if (config.isDense()) {
            throw new IllegalStateException("routerProbs: a dense model has no router");
        }
        return act.layers[layer].probs.clone();
    }

    /**
     * FlexOlmo's routing analysis for the last forward: per expert, the share of tokens whose top-k includes it
     * (uniform routing gives k / E).
     */
    public double[] expertTokenShare(int layer) {
        int[] ids = topKIds(layer);
        int k = config.topK(), t = act.tokens;
        double[] share = new double[config.experts()];
        for (int i = 0; i < t * k; i++) {
            share[ids[i]] += 1.0 / t;
        }
        return share;
    }

    /**
     * The output of the final RMSNorm in the last forward (the LM head's input), [T, D] (a copy): the public
     * model's own document representation for the {@code hidden-mean} router-embedding init.
     */
    public float[] finalHidden() {
        requireForward("finalHidden");
        return act.finalNormed.clone();
    }

    /** The per-layer router z-losses of the last forward (unweighted sum = Loss.routerZLoss). */
    public double[] routerZLosses() {
        requireForward("routerZLosses");
        double[] z = new double[config.layers()];
        if (!config.isDense()) {
            for (int l = 0; l < z.length; l++) {
                z[l] = act.layers[l].routerZLoss;
            }
        }
        return z;
    }

    /** Activations of the last forward, for tests in this package. */
    Activations activations() {
        return act;
    }

    private void requireForward(String op) {
        if (act == null) {
            throw new IllegalStateException(op + ": no forward has run yet");
        }
    }

    private void checkLayer(String op, int layer) {
        if (layer < 0 || layer >= config.layers()) {
            throw new IllegalArgumentException(op + ": layer must be in [0, " + config.layers() + "), got " + layer);
        }
    }

    private void validate(TokenBatch batch) {
        if (batch == null) {
            throw new IllegalArgumentException("forward: batch is null");
        }
        if (batch.seq() > config.maxSeqLen()) {
            throw new IllegalArgumentException("forward: seq " + batch.seq() + " exceeds maxSeqLen "
                    + config.maxSeqLen());
        }
        int v = config.vocabSize();
        int[] in = batch.inputs();
        for (int i = 0; i < in.length; i++) {
            if (in[i] < 0 || in[i] >= v) {
                throw new IllegalArgumentException("forward: inputs[" + i + "] = " + in[i]
                        + " is out of the vocabulary range [0, " + v + ")");
            }
        }
        int[] tg = batch.targets();
        if (tg != null) {
            for (int i = 0; i < tg.length; i++) {
                if (tg[i] < TokenBatch.IGNORE || tg[i] >= v) {
                    throw new IllegalArgumentException("forward: targets[" + i + "] = " + tg[i]
                            + " is out of range [-1, " + v + ") (-1 = no loss)");
                }
            }
        }
    }

    /**
     * Which parts of the backward have to run, from the trainable flags: {@code below(l)} is true when the
     * embedding or a block under l trains (then dL/dx must leave block l).
     */
    private record TrainingPlan(boolean any, boolean belowHead, boolean[] attention, boolean[] layer,
                                boolean[] belowLayer) {

        static TrainingPlan of(Parameters params) {
            int layers = params.config().layers();
            boolean[] attention = new boolean[layers];
            boolean[] layer = new boolean[layers];
            boolean[] below = new boolean[layers];
            boolean acc = params.embedding().trainable();
            for (int l = 0; l < layers; l++) {
                below[l] = acc;
                LayerParameters p = params.layer(l);
                attention[l] = anyTrainable(p.attentionTensors());
                layer[l] = attention[l] || anyTrainable(p.moeTensors());
                acc |= layer[l];
            }
            boolean belowHead = acc || params.finalNorm().trainable();
            boolean any = belowHead || params.lmHead().trainable();
            return new TrainingPlan(any, belowHead, attention, layer, below);
        }

        boolean below(int l) {
            return belowLayer[l];
        }

        boolean attentionTrains(int l) {
            return attention[l];
        }

        /** Block l's backward runs when it or something under it trains. */
        boolean layerNeeded(int l) {
            return layer[l] || belowLayer[l];
        }

        private static boolean anyTrainable(List<Tensor> tensors) {
            for (Tensor t : tensors) {
                if (t.trainable()) {
                    return true;
                }
            }
            return false;
        }
    }
}
