package flexmoe.moe.router;

import flexmoe.kernels.Backend;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.NonPositiveDefiniteMatrixException;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * A fixed affine map from an embedder's width e to the model's width d, {@code y = (x - inMean) W + outMean}, for
 * an off-the-shelf embedder whose width is not d_model (FLEXOLMO.md: "a fixed projection fitted on public data
 * only"). Fitted by ridge regression on PUBLIC documents only: x = the embedder's vector of a public document, y =
 * the public model's own embedding of the same document ({@link HiddenMeanInit#documentMeans}). So the projection
 * carries the embedder's notion of similarity into the space the router reads, and no private document ever
 * shapes it.
 *
 * <p>Fit: centre X and Y on their public means (the intercept), {@code W = (XcᵀXc + λI)⁻¹ XcᵀY c} with
 * {@code λ = ridge · trace(XcᵀXc) / e} (ridge relative to the mean feature variance, so the knob does not depend on
 * the embedder's scale). Gram matrices through the Backend's GEMM, the e x e solve by Cholesky (Commons Math).
 * Being affine, projecting a domain's mean embedding equals the mean of its projected documents; and the public
 * domain's own mean projects exactly onto the public hidden-mean (up to float rounding).
 *
 * @param inWidth    e, the embedder's width
 * @param outWidth   d, the model's width
 * @param weight     W [e, d] row-major
 * @param inMean     mean public embedding [e]
 * @param outMean    mean public hidden-state embedding [d]
 * @param ridge      the relative ridge used
 * @param documents  public documents it was fitted on
 */
public record EmbeddingProjection(int inWidth, int outWidth, float[] weight, float[] inMean, float[] outMean,
                                  double ridge, int documents) {

    /** Default relative ridge: a tenth of the mean feature variance (mild; N public documents >> e is typical). */
    public static final double DEFAULT_RIDGE = 0.1;

    public EmbeddingProjection {
        if (inWidth < 1 || outWidth < 1 || weight.length != inWidth * outWidth || inMean.length != inWidth
                || outMean.length != outWidth) {
            throw new IllegalArgumentException("EmbeddingProjection: inconsistent shapes (e " + inWidth + ", d "
                    + outWidth + ", W " + weight.length + ", means " + inMean.length + "/" + outMean.length + ")");
        }
        weight = weight.clone();
        inMean = inMean.clone();
        outMean = outMean.clone();
    }

    @Override
    public float[] weight() {
        return weight.clone();
    }

    @Override
    public float[] inMean() {
        return inMean.clone();
    }

    @Override
    public float[] outMean() {
        return outMean.clone();
    }

    /** {@code (x - inMean) W + outMean} for one vector x [e]. */
    public float[] project(float[] x, Backend backend) {
        if (x.length != inWidth) {
            throw new IllegalArgumentException("EmbeddingProjection.project: vector width " + x.length + ", expected "
                    + inWidth);
        }
        float[] centred = new float[inWidth];
        float[] negMean = new float[inWidth];
        backend.transformer().scale(inMean, 0, -1f, negMean, 0, inWidth);
        backend.transformer().add(x, 0, negMean, 0, centred, 0, inWidth);
        float[] y = new float[outWidth];
        backend.gemm().matmul(centred, 0, weight, 0, y, 0, 1, outWidth, inWidth, false);
        backend.transformer().add(y, 0, outMean, 0, y, 0, outWidth);
        return y;
    }

    /**
     * Fits the projection on public documents: the embedder's vectors and the public model's hidden-mean vectors of
     * the same documents.
     */
    public static EmbeddingProjection fitOnPublic(EmbedderInit embedder, HiddenMeanInit publicModel,
                                                  List<String> publicDocuments, double ridge, Backend backend) {
        float[] x = embedder.embedAll(publicDocuments);
        float[] y = publicModel.documentMeans(publicDocuments);
        return fit(x, y, publicDocuments.size(), embedder.embedderWidth(), publicModel.width(), ridge, backend);
    }

    /** Ridge regression from {@code x [n, e]} to {@code y [n, d]}, as in the class comment. */
    public static EmbeddingProjection fit(float[] x, float[] y, int n, int e, int d, double ridge, Backend backend) {
        if (n < 2) {
            throw new IllegalArgumentException("EmbeddingProjection.fit: needs at least 2 public documents, got " + n);
        }
        if (!(ridge > 0) || !Double.isFinite(ridge)) {
            throw new IllegalArgumentException("EmbeddingProjection.fit: ridge must be finite and positive, got "
                    + ridge);
        }
        if (x.length != (long) n * e || y.length != (long) n * d) {
            throw new IllegalArgumentException("EmbeddingProjection.fit: x has " + x.length + " values, y "
                    + y.length + "; expected " + n + " x " + e + " and " + n + " x " + d);
        }
        float[] xMean = Means.rowMean(backend, x, n, e);
        float[] yMean = Means.rowMean(backend, y, n, d);
        float[] xc = centre(backend, x, xMean, n, e);
        float[] yc = centre(backend, y, yMean, n, d);
        float[] gram = new float[e * e];
        float[] cross = new float[e * d];
        backend.gemm().matmulTN(xc, 0, xc, 0, gram, 0, e, e, n, false);
        backend.gemm().matmulTN(xc, 0, yc, 0, cross, 0, e, d, n, false);

        double trace = 0;
        for (int i = 0; i < e; i++) {
            trace += gram[i * e + i];
        }
        if (!(trace > 0)) {
            throw new IllegalArgumentException("EmbeddingProjection.fit: the public embeddings are all equal"
                    + " (nothing to fit)");
        }
        double lambda = ridge * trace / e;
        // The GEMM need not give bit-symmetric entries; the solve wants an exactly symmetric matrix.
        double[][] a = new double[e][e];
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < e; j++) {
                a[i][j] = 0.5 * ((double) gram[i * e + j] + gram[j * e + i]) + (i == j ? lambda : 0);
            }
        }
        double[][] b = new double[e][d];
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < d; j++) {
                b[i][j] = cross[i * d + j];
            }
        }
        RealMatrix w;
        try {
            w = new CholeskyDecomposition(new Array2DRowRealMatrix(a, false)).getSolver()
                    .solve(new Array2DRowRealMatrix(b, false));
        } catch (NonPositiveDefiniteMatrixException ex) {
            throw new IllegalArgumentException("EmbeddingProjection.fit: the ridge system is not positive definite ("
                    + ex.getMessage() + ")", ex);
        }
        float[] weight = new float[e * d];
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < d; j++) {
                weight[i * d + j] = (float) w.getEntry(i, j);
            }
        }
        return new EmbeddingProjection(e, d, weight, xMean, yMean, ridge, n);
    }

    private static float[] centre(Backend backend, float[] x, float[] mean, int n, int w) {
        float[] negMean = new float[w];
        backend.transformer().scale(mean, 0, -1f, negMean, 0, w);
        float[] out = new float[n * w];
        for (int i = 0; i < n; i++) {
            backend.transformer().add(x, i * w, negMean, 0, out, i * w, w);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EmbeddingProjection p && p.inWidth == inWidth && p.outWidth == outWidth
                && Arrays.equals(p.weight, weight) && Arrays.equals(p.inMean, inMean)
                && Arrays.equals(p.outMean, outMean) && p.ridge == ridge && p.documents == documents;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(weight) * 31 + Arrays.hashCode(outMean);
    }

    @Override
    public String toString() {
        return "EmbeddingProjection[" + inWidth + " -> " + outWidth + ", ridge " + ridge + ", " + documents
                + " public documents]";
    }
}
