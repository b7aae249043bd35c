package flexmoe.moe.model;

/**
 * Every buffer one forward/backward of a (B, S) batch needs, allocated once and reused for every batch of
 * that shape (llm.c's ActivationTensors). What the backward reads is kept per layer; gradient scratch is shared
 * by all layers since the backward visits one layer at a time. Shapes (T = B * S tokens, D width, F expert
 * hidden, E experts, k active, H heads, V vocab) are in the field comments; all row-major.
 */
final class Activations {

    final int batch;
    final int seq;
    final int tokens;

    /** Position of each token in its sequence [T] (RoPE). */
    final int[] pos;
    /** The residual stream: {@code residual[0]} = embeddings, {@code residual[l + 1]} = output of block l [T, D]. */
    final float[][] residual;
    final Layer[] layers;

    /** Final RMSNorm: its output [T, D] and saved rstd [T]. */
    final float[] finalNormed;
    final float[] finalRstd;
    /** LM-head logits [T, V]; the backward turns them into dlogits in place. */
    final float[] logits;
    /** Per-token loss and logsumexp of the LM head [T]. */
    final float[] tokenLoss;
    final float[] lmLse;

    // ---- backward scratch, shared by the layers ----
    /** dLoss / d(residual stream) at the current depth [T, D]; flows down through every block in place. */
    final float[] dResidual;
    /** Gradient into a norm's input (m, o, the final norm's x) [T, D]. */
    final float[] dNormIn;
    final float[] dAttention;
    final float[] dq;
    final float[] dk;
    final float[] dv;
    final float[] dqRaw;
    final float[] dkRaw;
    /** Attention backward scratch [B, H, S]. */
    final float[] delta;
    /** Expert-row gradients [rows, D], [rows, F], [rows, 2F]; rows = T * k (T for the dense model). */
    final float[] dExpertOut;
    final float[] dExpertIn;
    final float[] dHidden;
    final float[] dGateUp;
    /** Router gradients: dGate [T, k], dLogits [T, E], the packed dR [E, D] and db [E]. */
    final float[] dGate;
    final float[] dLogits;
    final float[] dRouter;
    final float[] dBias;
    /** Receives the weight gradient of a frozen norm (rmsnormBackward always accumulates one) [D]; never read. */
    final float[] frozenNormSink;
    /** {@code 1 / validTokens} for the cross-entropy backward [1]. */
    final float[] lossScale = new float[1];

    /** What one block saves for its backward. */
    static final class Layer {
        /** q, k before the QK-norm; v [T, D]. */
        final float[] qRaw;
        final float[] kRaw;
        final float[] v;
        /** q, k after QK-norm and RoPE [T, D]. */
        final float[] qRot;
        final float[] kRot;
        final float[] rstdQ;
        final float[] rstdK;
        /** Attention output before o_proj [T, D] and its row logsumexp [B, H, S]. */
        final float[] attention;
        final float[] attentionLse;
        /** o_proj output [T, D], its post-attention-norm rstd [T]. */
        final float[] o;
        final float[] rstdO;
        /** h = x + RMSNorm(o) [T, D], the input of router and experts. */
        final float[] h;
        /** MoE output before the FFN norm [T, D] and its rstd [T]. */
        final float[] m;
        final float[] rstdM;
        /** Expert rows: inputs xe [rows, D] (MoE only; the dense FFN reads h), gate|up [rows, 2F], SwiGLU [rows, F], outputs ye [rows, D] (MoE only). */
        final float[] xe;
        final float[] gateUp;
        final float[] hidden;
        final float[] ye;
        /** Router (MoE only): packed rows [E, D] and biases [E] as of this forward, probs [T, E], lse [T], top-k ids and gates [T, k]. */
        final float[] routerPacked;
        final float[] biasPacked;
        final float[] probs;
        final float[] routerLse;
        final int[] ids;
        final float[] gates;
        /** Dispatch plan (MoE only): counts [E], offsets [E + 1], slotRow and rowToken [T * k]. */
        final int[] counts;
        final int[] offsets;
        final int[] slotRow;
        final int[] rowToken;
        /** This layer's router z-loss of the last forward. */
        float routerZLoss;

        Layer(ModelConfig c, int batch, int seq) {
            int t = batch * seq, d = c.dim(), f = c.ffnHidden(), e = c.experts(), k = c.topK();
            int rows = t * k;
            qRaw = new float[t * d];
            kRaw = new float[t * d];
            v = new float[t * d];
            qRot = new float[t * d];
            kRot = new float[t * d];
            rstdQ = new float[t];
            rstdK = new float[t];
            attention = new float[t * d];
            attentionLse = new float[batch * c.heads() * seq];
            o = new float[t * d];
            rstdO = new float[t];
            h = new float[t * d];
            m = new float[t * d];
            rstdM = new float[t];
            gateUp = new float[rows * 2 * f];
            hidden = new float[rows * f];
            boolean moe = !c.isDense();
            xe = moe ? new float[rows * d] : null;
            ye = moe ? new float[rows * d] : null;
            routerPacked = moe ? new float[e * d] : null;
            biasPacked = moe ? new float[e] : null;
            probs = moe ? new float[t * e] : null;
            routerLse = moe ? new float[t] : null;
            ids = moe ? new int[rows] : null;
            gates = moe ? new float[rows] : null;
            counts = moe ? new int[e] : null;
            offsets = moe ? new int[e + 1] : null;
            slotRow = moe ? new int[rows] : null;
            rowToken = moe ? new int[rows] : null;
        }
    }

    Activations(ModelConfig c, int batch, int seq) {
        this.batch = batch;
        this.seq = seq;
        this.tokens = batch * seq;
        int t = tokens, d = c.dim(), f = c.ffnHidden(), e = c.experts(), k = c.topK();
        long logitsSize = (long) t * c.vocabSize();
        long rowsF = (long) t * k * 2 * f;
        if (logitsSize > Integer.MAX_VALUE - 8 || rowsF > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("forward: batch " + batch + " x seq " + seq
                    + " makes an activation larger than a Java array (logits " + logitsSize + ", expert rows x 2F "
                    + rowsF + "): use smaller batches");
        }
        int rows = t * k;
        pos = new int[t];
        for (int i = 0; i < t; i++) {
            pos[i] = i % seq;
        }
        residual = new float[c.layers() + 1][t * d];
        layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(c, batch, seq);
        }
        finalNormed = new float[t * d];
        finalRstd = new float[t];
        logits = new float[(int) logitsSize];
        tokenLoss = new float[t];
        lmLse = new float[t];
        dResidual = new float[t * d];
        dNormIn = new float[t * d];
        dAttention = new float[t * d];
        dq = new float[t * d];
        dk = new float[t * d];
        dv = new float[t * d];
        dqRaw = new float[t * d];
        dkRaw = new float[t * d];
        delta = new float[batch * c.heads() * seq];
        boolean moe = !c.isDense();
        dExpertOut = moe ? new float[rows * d] : null;
        dExpertIn = moe ? new float[rows * d] : null;
        dHidden = new float[rows * f];
        dGateUp = new float[rows * 2 * f];
        dGate = moe ? new float[rows] : null;
        dLogits = moe ? new float[t * e] : null;
        dRouter = moe ? new float[e * d] : null;
        dBias = moe ? new float[e] : null;
        frozenNormSink = new float[d];
    }
}
