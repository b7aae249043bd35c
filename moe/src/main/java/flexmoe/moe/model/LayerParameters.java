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
}
