package flexmoe.moe.router;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Proxy sets for FlexOlmo's optional router tuning: for a closed domain D_i, the N public documents that a D_i-vs-public
 * classifier rates most like D_i. The paper fine-tunes a small embedder as that classifier; here the embedder is the
 * public model itself ({@link HiddenMeanInit#documentMeans}: mean-pooled final hidden states) and the classifier is
 * the nearest-centroid rule between the owner's documents and the public ones.
 *
 * <p>Why nearest centroid rather than a trained logistic regression: in the hidden-mean space the domains' document
 * means are already far apart (cos public/math 0.72, public/code 0.65, news/code 0.26 in the routing study), so the
 * linear rule {@code score(x) = (m_D - m_pub)·x - (m_D - m_pub)·(m_D + m_pub)/2} (score > 0: closer to D) separates
 * them; it has a closed form (no learning rate, epochs or regularisation to choose), is the same bits for the same
 * inputs, and ranking by it is ranking by the projection on the direction that separates the two means, which is what
 * "most like D_i" asks. {@link Result#ownerAccuracy()} and {@link Result#publicAccuracy()} say how well it separates
 * the documents it was built from.
 *
 * <p>Who needs what (no private data is pooled): the data owner of D_i runs this on their side with the public model
 * and tokenizer (public), their own train documents (private; they, and m_D, never leave) and the public train
 * documents (public). What leaves is only the choice: indices into the public train split, i.e. public documents. The
 * candidates are the public TRAIN split, so the public test split the evaluation uses is never tuned on.
 */
public final class ProxySelection {

    /**
     * One domain's proxy set.
     *
     * @param domain          the closed domain D_i
     * @param indices         the chosen candidates (indices into the candidate list), best first
     * @param scores          their classifier scores, best first (> 0: closer to D_i's centroid than to public's)
     * @param ownerAccuracy   share of the owner's documents the classifier puts on the D_i side
     * @param publicAccuracy  share of the public candidates it puts on the public side
     */
    public record Result(String domain, int[] indices, double[] scores, double ownerAccuracy, double publicAccuracy) {
    }

    private final HiddenMeanInit embedder;
    private final float[] candidates;
    private final int count;
    private final float[] publicMean;

    /**
     * Embeds the public candidates once (every domain's selection scores the same documents).
     *
     * @param embedder    the public model as document embedder
     * @param candidates  the public train documents to choose from; their mean is the public centroid
     */
    public ProxySelection(HiddenMeanInit embedder, List<String> candidates) {
        if (candidates == null || candidates.isEmpty()) {
            throw new IllegalArgumentException("proxy selection: no public documents to choose from");
        }
        this.embedder = embedder;
        this.count = candidates.size();
        this.candidates = embedder.documentMeans(candidates);
        this.publicMean = Means.rowMean(backend(), this.candidates, count, embedder.width());
    }

    /** Number of public candidates. */
    public int candidates() {
        return count;
    }

    /**
     * The {@code n} candidates most like {@code ownerDocuments} (at most all of them), best first; ties go to the
     * earlier candidate.
     */
    public Result select(String domain, List<String> ownerDocuments, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("--proxy-documents: must be at least 1, got " + n);
        }
        if (ownerDocuments == null || ownerDocuments.isEmpty()) {
            throw new IllegalArgumentException("proxy selection: domain " + domain + " has no documents to build the"
                    + " classifier from");
        }
        int d = embedder.width();
        float[] owner = embedder.documentMeans(ownerDocuments);
        float[] ownerMean = Means.rowMean(backend(), owner, ownerDocuments.size(), d);
        // w = m_D - m_pub, threshold = w·(m_D + m_pub)/2: the perpendicular bisector of the two centroids.
        float[] w = new float[d];
        float[] mid = new float[d];
        float[] sum = new float[d];
        backend().transformer().scale(publicMean, 0, -1f, w, 0, d);
        backend().transformer().add(ownerMean, 0, w, 0, w, 0, d);
        backend().transformer().add(ownerMean, 0, publicMean, 0, sum, 0, d);
        backend().transformer().scale(sum, 0, 0.5f, mid, 0, d);
        float[] threshold = new float[1];
        backend().gemm().matmul(mid, 0, w, 0, threshold, 0, 1, 1, d, false);
        float[] candidateScores = project(candidates, count, w);
        float[] ownerScores = project(owner, ownerDocuments.size(), w);

        int ownerRight = 0;
        for (float s : ownerScores) {
            ownerRight += s > threshold[0] ? 1 : 0;
        }
        int publicRight = 0;
        for (float s : candidateScores) {
            publicRight += s <= threshold[0] ? 1 : 0;
        }
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -candidateScores[i]).thenComparingInt(i -> i));
        int k = Math.min(n, count);
        int[] chosen = new int[k];
        double[] scores = new double[k];
        for (int j = 0; j < k; j++) {
            chosen[j] = order[j];
            scores[j] = candidateScores[order[j]] - threshold[0];
        }
        return new Result(domain, chosen, scores, (double) ownerRight / ownerDocuments.size(),
                (double) publicRight / count);
    }

    /** The chosen candidates' texts, best first. */
    public static List<String> documents(List<String> candidates, Result result) {
        List<String> out = new ArrayList<>(result.indices().length);
        for (int i : result.indices()) {
            out.add(candidates.get(i));
        }
        return out;
    }

    /** x [rows, d] · w [d]: one GEMM. */
    private float[] project(float[] x, int rows, float[] w) {
        float[] out = new float[rows];
        backend().gemm().matmul(x, 0, w, 0, out, 0, rows, 1, embedder.width(), false);
        return out;
    }

    private flexmoe.kernels.Backend backend() {
        return embedder.backend();
    }
}
