package flexmoe.moe.artifact;

import flexmoe.moe.io.AtomicFiles;
import flexmoe.moe.model.FlexOlmoModel;
import flexmoe.moe.model.ModelConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * FlexOlmo's routing analysis: per layer and per input domain, the share of tokens whose top-k includes each expert
 * (uniform routing gives k / E; the paper finds each domain's expert firing on its domain and the public expert
 * firing often). Accumulated over forwards ({@link #add}); printed as a table ({@link #table}) or written as CSV
 * ({@link #writeCsv}).
 */
public final class RoutingStats {

    private final List<String> expertNames;
    private final int layers;
    private final int topK;
    /** Per domain: [layer][expert] routed-token counts, and the token count. */
    private final Map<String, long[][]> routed = new LinkedHashMap<>();
    private final Map<String, Long> tokens = new LinkedHashMap<>();

    /**
     * @param expertNames the model's experts in index order (0 = public), e.g. {@link ComposedModel#expertNames()}
     * @param config      the model's configuration (layers, experts, top-k)
     */
    public RoutingStats(List<String> expertNames, ModelConfig config) {
        if (expertNames.size() != config.experts()) {
            throw new IllegalArgumentException("routing statistics: " + expertNames.size() + " expert names for a"
                    + " model with " + config.experts() + " experts");
        }
        for (String name : expertNames) {
            if (name == null || !ArtifactPart.DOMAIN_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("routing statistics: expert names must be letters, digits, '-' or"
                        + " '_', got " + name);
            }
        }
        this.expertNames = List.copyOf(expertNames);
        this.layers = config.layers();
        this.topK = config.topK();
    }

    /** Statistics for a composed model's experts. */
    public static RoutingStats of(ComposedModel model) {
        return new RoutingStats(model.expertNames(), model.config());
    }

    /** Counts every token of the model's last forward as input from {@code domain}. */
    public void add(String domain, FlexOlmoModel model) {
        add(domain, model, null);
    }

    /**
     * Counts the tokens of the model's last forward whose {@code counted} entry is true (null: all) as input from
     * {@code domain}; e.g. to leave padding out.
     */
    public void add(String domain, FlexOlmoModel model, boolean[] counted) {
        ModelConfig c = model.config();
        if (c.experts() != expertNames.size() || c.layers() != layers || c.topK() != topK) {
            throw new IllegalArgumentException("routing statistics: the model has " + c.experts() + " experts (top-"
                    + c.topK() + "), " + c.layers() + " layers; these statistics are for " + expertNames.size()
                    + " (top-" + topK + "), " + layers);
        }
        if (domain == null || !ArtifactPart.DOMAIN_NAME.matcher(domain).matches()) {
            throw new IllegalArgumentException("routing statistics: domain must be letters, digits, '-' or '_', got "
                    + domain);
        }
        long[][] counts = routed.computeIfAbsent(domain, k -> new long[layers][expertNames.size()]);
        long n = 0;
        for (int l = 0; l < layers; l++) {
            int[] ids = model.topKIds(l);
            int t = ids.length / topK;
            if (counted != null && counted.length != t) {
                throw new IllegalArgumentException("routing statistics: counted has " + counted.length
                        + " entries, the last forward had " + t + " tokens");
            }
            n = 0;
            for (int i = 0; i < t; i++) {
                if (counted == null || counted[i]) {
                    n++;
                    for (int j = 0; j < topK; j++) {
                        counts[l][ids[i * topK + j]]++;
                    }
                }
            }
        }
        tokens.merge(domain, n, Long::sum);
    }

    /** The domains seen, in the order first added. */
    public List<String> domains() {
        return new ArrayList<>(routed.keySet());
    }

    public List<String> expertNames() {
        return expertNames;
    }

    /** Tokens counted for a domain. */
    public long tokens(String domain) {
        return tokens.getOrDefault(domain, 0L);
    }

    /** Tokens of {@code domain} whose top-k in {@code layer} included {@code expert}. */
    public long routedTokens(String domain, int layer, int expert) {
        long[][] c = routed.get(domain);
        return c == null ? 0 : c[layer][expert];
    }

    /** The share of {@code domain}'s tokens whose top-k in {@code layer} included {@code expert} (0 when none). */
    public double share(String domain, int layer, int expert) {
        long n = tokens(domain);
        return n == 0 ? 0 : (double) routedTokens(domain, layer, expert) / n;
    }

    /** The share every expert would get under uniform routing, k / E. */
    public double uniformShare() {
        return (double) topK / expertNames.size();
    }

    /** One block per layer: a row per domain, a column per expert. */
    public String table() {
        int nameWidth = "domain".length();
        for (String d : routed.keySet()) {
            nameWidth = Math.max(nameWidth, d.length());
        }
        StringBuilder sb = new StringBuilder();
        for (int l = 0; l < layers; l++) {
            sb.append(String.format(Locale.ROOT, "layer %d: share of tokens whose top-%d includes the expert"
                    + " (uniform %.3f)%n", l, topK, uniformShare()));
            sb.append(String.format(Locale.ROOT, "  %-" + nameWidth + "s %10s", "domain", "tokens"));
            for (String e : expertNames) {
                sb.append(String.format(Locale.ROOT, " %" + Math.max(8, e.length()) + "s", e));
            }
            sb.append(System.lineSeparator());
            for (String d : routed.keySet()) {
                sb.append(String.format(Locale.ROOT, "  %-" + nameWidth + "s %10d", d, tokens(d)));
                for (int e = 0; e < expertNames.size(); e++) {
                    sb.append(String.format(Locale.ROOT, " %" + Math.max(8, expertNames.get(e).length()) + ".3f",
                            share(d, l, e)));
                }
                sb.append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    /** CSV, one row per (layer, domain, expert): {@code layer,domain,expert,tokens,routed,share}. */
    public String csv() {
        StringBuilder sb = new StringBuilder("layer,domain,expert,tokens,routed,share\n");
        for (int l = 0; l < layers; l++) {
            for (String d : routed.keySet()) {
                for (int e = 0; e < expertNames.size(); e++) {
                    sb.append(l).append(',').append(d).append(',').append(expertNames.get(e)).append(',')
                            .append(tokens(d)).append(',').append(routedTokens(d, l, e)).append(',')
                            .append(share(d, l, e)).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** Writes {@link #csv()} atomically. */
    public void writeCsv(Path file) {
        AtomicFiles.write(file, csv().getBytes(StandardCharsets.UTF_8));
    }
}
