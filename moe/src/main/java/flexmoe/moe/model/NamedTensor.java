package flexmoe.moe.model;

/**
 * A tensor as Hugging Face names and shapes it ({@code model.layers.0.mlp.gate.weight} [E, D], ...), for
 * artifacts. The data is the exporter's own copy.
 */
public record NamedTensor(String name, int[] shape, float[] data) {

    public NamedTensor {
        shape = shape.clone();
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        if (size != data.length) {
            throw new IllegalArgumentException("NamedTensor " + name + ": shape needs " + size + " values, has "
                    + data.length);
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }
}
