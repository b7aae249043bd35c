package flexmoe.moe.router;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.Split;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The documents a router embedding is averaged over: a uniform sample of N documents of a domain's train split
 * (the paper: 1000 documents of D_i; r_pub from public documents). Reservoir sampling, seeded by (seed, domain), in
 * one streaming pass; returned in corpus order so that the average sums in a fixed order. A domain with fewer than
 * N training documents gives all of them.
 */
public final class DomainSample {

    /** The paper's sample size. */
    public static final int PAPER_DOCUMENTS = 1000;

    private DomainSample() {
    }

    public static List<String> documents(Corpus corpus, String domain, int n, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("router embedding documents: must be at least 1, got " + n);
        }
        SplittableRandom rng = new SplittableRandom(seed ^ fnv(domain));
        String[] texts = new String[n];
        long[] index = new long[n];
        long[] seen = {0};
        corpus.forEachDocument(domain, Split.TRAIN, doc -> {
            long i = seen[0]++;
            if (i < n) {
                texts[(int) i] = doc.text();
                index[(int) i] = i;
            } else {
                long j = rng.nextLong(i + 1);
                if (j < n) {
                    texts[(int) j] = doc.text();
                    index[(int) j] = i;
                }
            }
        });
        int k = (int) Math.min(n, seen[0]);
        if (k == 0) {
            throw new IllegalArgumentException("router embedding documents: domain " + domain
                    + " has no documents in its train split");
        }
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(index[a], index[b]));
        List<String> out = new ArrayList<>(k);
        for (int i : order) {
            out.add(texts[i]);
        }
        return out;
    }

    private static long fnv(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
