package flexmoe.moe.router;

import java.util.Arrays;

/**
 * A domain's router embedding: the vector that seeds router row r_i (or r_pub for the public domain) in every
 * layer, with where it came from (for artifact metadata).
 *
 * <p>Norm: the paper stores the embedder's mean as it is (GritLM means of ~0.41-0.55 norm, no renormalisation),
 * so no strategy rescales; {@link #rescaled} is the option for embedders whose scale does not suit the router
 * (e.g. the public model's own hidden states, whose norm grows with the width).
 *
 * @param domain     the domain the documents came from ("public" for r_pub)
 * @param strategy   the {@link RouterInit#strategy()} that made it
 * @param documents  documents averaged (0 for random; rows of an external file)
 * @param vector     the embedding, width d_model
 */
public record RouterEmbedding(String domain, String strategy, int documents, float[] vector) {

    public RouterEmbedding {
        if (vector == null || vector.length == 0) {
            throw new IllegalArgumentException("RouterEmbedding " + domain + ": the vector is empty");
        }
        vector = vector.clone();
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) {
                throw new IllegalArgumentException("RouterEmbedding " + domain + " (" + strategy + "): value " + i
                        + " is " + vector[i]);
            }
        }
    }

    /** The vector (a copy). */
    @Override
    public float[] vector() {
        return vector.clone();
    }

    public int width() {
        return vector.length;
    }

    /** Euclidean norm, in double (d values: host bookkeeping). */
    public double norm() {
        double s = 0;
        for (float v : vector) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }

    /** The same direction with norm {@code targetNorm} (the optional rescaling; the paper does not rescale). */
    public RouterEmbedding rescaled(double targetNorm) {
        if (!(targetNorm > 0) || !Double.isFinite(targetNorm)) {
            throw new IllegalArgumentException("router embedding norm: must be finite and positive, got "
                    + targetNorm);
        }
        double n = norm();
        if (n == 0) {
            throw new IllegalArgumentException("RouterEmbedding " + domain + ": a zero vector cannot be rescaled");
        }
        float[] v = new float[vector.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (vector[i] * (targetNorm / n));
        }
        return new RouterEmbedding(domain, strategy, documents, v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RouterEmbedding r && r.domain.equals(domain) && r.strategy.equals(strategy)
                && r.documents == documents && Arrays.equals(r.vector, vector);
    }

    @Override
    public int hashCode() {
        return (domain.hashCode() * 31 + strategy.hashCode()) * 31 + Arrays.hashCode(vector);
    }

    @Override
    public String toString() {
        return "RouterEmbedding[" + domain + ", " + strategy + ", " + documents + " documents, width " + vector.length
                + String.format(", norm %.4f]", norm());
    }
}
