package flexmoe.moe.router;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code random}: the ablation without domain information. Each domain's vector is normal(0, std) from its own
 * generator, seeded by (seed, domain), so domains get independent vectors and a domain's vector does not depend
 * on which others exist. The default std is the model's init std (0.02, {@code ModelConfig.initStd}): exactly how an
 * MoE router row is initialised when nothing is known about the experts.
 */
public final class RandomInit implements RouterInit {

    public static final String STRATEGY = "random";

    private final int width;
    private final double std;
    private final long seed;

    public RandomInit(int width, double std, long seed) {
        if (width < 1) {
            throw new IllegalArgumentException("random router init: width must be at least 1, got " + width);
        }
        if (!(std > 0) || !Double.isFinite(std)) {
            throw new IllegalArgumentException("random router init: std must be finite and positive, got " + std);
        }
        this.width = width;
        this.std = std;
        this.seed = seed;
    }

    @Override
    public String strategy() {
        return STRATEGY;
    }

    @Override
    public int width() {
        return width;
    }

    /** Ignores the documents: the vector depends on (seed, domain) only. */
    @Override
    public RouterEmbedding routerEmbedding(String domain, List<String> documents) {
        SplittableRandom rng = new SplittableRandom(streamSeed(seed, domain));
        float[] v = new float[width];
        for (int i = 0; i < width; i++) {
            v[i] = (float) (std * rng.nextGaussian());
        }
        return new RouterEmbedding(domain, STRATEGY, 0, v);
    }

    /** FNV-1a of "router-embedding/" + domain, mixed with the seed: one stream per domain. */
    private static long streamSeed(long seed, String domain) {
        long h = 0xcbf29ce484222325L;
        for (byte b : ("router-embedding/" + domain).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return seed * 0x9E3779B97F4A7C15L + h;
    }
}
