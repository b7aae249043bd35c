package flexmoe.moe.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything one expert owns in one layer: its SwiGLU FFN ({@code gateUp} = [W1; W3] as [2F, D],
 * {@code down} = W2 as [D, F]) and, in an MoE model, its router embedding row r_e [D] and its bias b_e [1]
 * (absent for the public expert 0, which never gets a bias, and for the dense model, which has no router).
 * These are exactly the per-expert parameters of FlexOlmo: merging stacks them, opting out drops them.
 */
public record ExpertLayer(Tensor gateUp, Tensor down, Tensor routerRow, Tensor bias) {

    public ExpertLayer {
        if (gateUp == null || down == null) {
            throw new IllegalArgumentException("ExpertLayer: gateUp and down are required");
        }
        if (bias != null && routerRow == null) {
            throw new IllegalArgumentException("ExpertLayer " + gateUp.name() + ": a bias needs a router row");
        }
    }

    /** The tensors present, in the order gateUp, down, routerRow, bias. */
    public List<Tensor> tensors() {
        List<Tensor> list = new ArrayList<>(4);
        list.add(gateUp);
        list.add(down);
        if (routerRow != null) {
            list.add(routerRow);
        }
        if (bias != null) {
            list.add(bias);
        }
        return list;
    }
}
