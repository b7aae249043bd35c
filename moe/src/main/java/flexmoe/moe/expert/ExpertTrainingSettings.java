package flexmoe.moe.expert;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The settings of one expert's coordinated training that the model config does not hold, recorded in the expert
 * file's metadata ({@code training}) so that a composed model's routing can be traced to how each expert was made.
 *
 * @param lr              peak learning rate of the expert's FFN
 * @param routerLrScale   multiplier of that rate for r_i and b_i ({@link flexmoe.moe.train.AdamWConfig#routerLrScale})
 * @param bias            the expert bias setting (trained from an init, or the no-bias ablation)
 * @param routerInit      the router-embedding strategy that seeded r_i (e.g. hidden-mean, minilm)
 * @param routerNorm      the norm r_i was rescaled to, or null when it was used as made
 * @param routerDocuments documents averaged into r_i (0 when none were read)
 */
public record ExpertTrainingSettings(double lr, double routerLrScale, ExpertBias bias, String routerInit,
                                     Double routerNorm, int routerDocuments) {

    public ExpertTrainingSettings {
        if (bias == null || routerInit == null) {
            throw new IllegalArgumentException("expert training settings: bias and router init are required");
        }
    }

    /** The JSON object stored in the artifact metadata. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("lr", lr);
        o.put("routerLrScale", routerLrScale);
        if (bias.enabled()) {
            o.put("expertBiasInit", bias.init());
        } else {
            o.putNull("expertBiasInit");
        }
        o.put("routerInit", routerInit);
        if (routerNorm == null) {
            o.putNull("routerNorm");
        } else {
            o.put("routerNorm", routerNorm.doubleValue());
        }
        o.put("routerDocuments", routerDocuments);
        return o;
    }
}
