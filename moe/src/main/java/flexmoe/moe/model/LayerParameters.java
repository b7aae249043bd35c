package flexmoe.moe.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameters of one OLMo-2 block: attention projections [D, D] with the QK-norm weights [D] (over the whole
 * projection), the two post-norms [D], and the experts of the MoE layer (one for the dense model). Everything
 * but {@code experts} is shared by all experts and frozen during expert training.
 */
public record LayerParameters(Tensor qProj, Tensor kProj, Tensor vProj, Tensor oProj, Tensor qNorm, Tensor kNorm,
                              Tensor postAttentionNorm, Tensor postFeedforwardNorm, List<ExpertLayer> experts) {

    public LayerParameters {
        experts = List.copyOf(experts);
        if (experts.isEmpty()) {
            throw new IllegalArgumentException("LayerParameters: at least one expert is required");
        }
    }

    /** The attention-side tensors (q, k, v, o, q_norm, k_norm, post_attention_layernorm). */
    public List<Tensor> attentionTensors() {
        return List.of(qProj, kProj, vProj, oProj, qNorm, kNorm, postAttentionNorm);
    }

    /** The MoE-side tensors: every expert's, then post_feedforward_layernorm. */
    public List<Tensor> moeTensors() {
        List<Tensor> list = new ArrayList<>();
        for (ExpertLayer e : experts) {
            list.addAll(e.tensors());
        }
        list.add(postFeedforwardNorm);
        return list;
    }

    /** All tensors of the block, attention first. */
    public List<Tensor> tensors() {
        List<Tensor> list = new ArrayList<>(attentionTensors());
        list.addAll(moeTensors());
        return list;
    }

    public ExpertLayer expert(int e) {
        return experts.get(e);
    }

    /**
     * Copies the experts' router rows into {@code rows} [E, D] and their biases into {@code bias} [E], the layout
     * the router kernel reads. The public expert has no bias: {@code bias[0]} is written 0 (the kernel never reads
     * it; 0 keeps the buffer clean).
     */
    public void packRouter(float[] rows, float[] bias) {
        for (int e = 0; e < experts.size(); e++) {
            ExpertLayer x = experts.get(e);
            float[] r = x.routerRow().data();
            System.arraycopy(r, 0, rows, e * r.length, r.length);
            bias[e] = x.bias() == null ? 0f : x.bias().data()[0];
        }
    }
}
