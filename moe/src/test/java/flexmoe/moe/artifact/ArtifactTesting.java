package flexmoe.moe.artifact;

import flexmoe.kernels.Backend;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.ExpertLayer;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.LayerParameters;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.ParameterNames;
import flexmoe.moe.model.Parameters;
import flexmoe.moe.model.Tensor;
import flexmoe.moe.model.TokenBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Public models and experts for the artifact tests, made from {@link Parameters#init} (no training pipeline yet). */
final class ArtifactTesting {

    static final TokenizerFingerprint TOKENIZER = TokenizerFingerprint.ofBytes("test tokenizer".getBytes(
            StandardCharsets.UTF_8));

    private ArtifactTesting() {
    }

    /** A tiny public model with a router embedding r_pub (the same random vector in every layer). */
    static PublicModelArtifact publicModel(long seed) {
        ModelConfig config = ModelConfig.preset("tiny");
        PublicModelArtifact p = PublicModelArtifact.create(Parameters.init(config, seed),
                ArtifactPart.of("public", 1000 + seed, seed, null), TOKENIZER);
        return p.withRouterEmbedding(gaussian(config.dim(), 0.5, seed ^ 0x5eed));
    }

    /**
     * What coordinated training produces, without training: the 2-expert model [public FFN, a perturbed copy], router
     * rows [r_pub, a random r_i], bias b_1 < 0; every shared tensor is the public model's.
     */
    static Parameters trainingModel(PublicModelArtifact publicModel, long seed) {
        Parameters dense = publicModel.parameters();
        ModelConfig c = dense.config();
        SplittableRandom rng = new SplittableRandom(seed);
        List<LayerParameters> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            LayerParameters dl = dense.layer(l);
            ExpertLayer ffn = dl.expert(0);
            Tensor gateUp = ffn.gateUp().copyAs(ParameterNames.ffnGateUp(l, 1, false));
            Tensor down = ffn.down().copyAs(ParameterNames.ffn(l, 1, false, "down"));
            for (Tensor t : List.of(gateUp, down)) {
                float[] a = t.data();
                for (int i = 0; i < a.length; i++) {
                    a[i] += (float) (0.05 * rng.nextGaussian());
                }
            }
            ExpertLayer publicExpert = new ExpertLayer(
                    ffn.gateUp().copyAs(ParameterNames.ffnGateUp(l, 0, false)),
                    ffn.down().copyAs(ParameterNames.ffn(l, 0, false, "down")),
                    new Tensor(ParameterNames.routerRow(l, 0), Tensor.Kind.ROUTER, publicModel.routerEmbedding(l),
                            c.dim()),
                    null);
            ExpertLayer expert = new ExpertLayer(gateUp, down,
                    new Tensor(ParameterNames.routerRow(l, 1), Tensor.Kind.ROUTER,
                            gaussian(c.dim(), 0.5, rng.nextLong()), c.dim()),
                    new Tensor(ParameterNames.expertBias(l, 1), Tensor.Kind.BIAS,
                            new float[] {(float) (-0.2 * rng.nextDouble())}, 1));
            layers.add(new LayerParameters(dl.qProj(), dl.kProj(), dl.vProj(), dl.oProj(), dl.qNorm(), dl.kNorm(),
                    dl.postAttentionNorm(), dl.postFeedforwardNorm(), List.of(publicExpert, expert)));
        }
        return new Parameters(c.withExperts(2, 2), dense.embedding(), layers, dense.finalNorm(), dense.lmHead());
    }

    /** An expert for {@code domain} trained (in the sense of {@link #trainingModel}) against the public model. */
    static ExpertArtifact expert(PublicModelArtifact publicModel, String domain, long seed) {
        return ExpertArtifact.fromTrainingModel(trainingModel(publicModel, seed), publicModel,
                ArtifactPart.of(domain, 500 + seed, seed, null));
    }

    /** The logits [T, V] of a forward over the batch's inputs. */
    static float[] logits(Parameters p, Backend backend, TokenBatch batch) {
        FlexOlmoModel model = new FlexOlmoModel(p, backend);
        model.forward(new TokenBatch(batch.inputs(), null, batch.batch(), batch.seq()));
        return model.logits();
    }

    /** B x S random token ids. */
    static TokenBatch randomBatch(ModelConfig c, int batch, int seq, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[batch * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(c.vocabSize());
        }
        return new TokenBatch(ids, null, batch, seq);
    }

    static float[] gaussian(int n, double std, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (std * rng.nextGaussian());
        }
        return a;
    }

    /** True when both arrays have the same length and the same bits everywhere. */
    static boolean sameBits(float[] a, float[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                return false;
            }
        }
        return true;
    }
}
