package flexmoe.moe.model;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * All parameters of one model: the embedding, the blocks, the final norm and the (untied) LM head, each a
 * separate {@link Tensor} (ParameterNames spells the names). Gradients live in the tensors; which tensors
 * train is decided per tensor ({@link #setTrainable}); by default everything is frozen.
 *
 * <p>Storage: one array per tensor rather than llm.c's one flat buffer, so that FlexOlmo's operations on
 * experts (upcycle, compose, opt-out) move tensor objects between models, and the optimizer and the
 * gradient clipping walk {@link #trainable()} instead of a flat range.
 *
 * <p>Init ({@link #init}): every weight matrix and router row normal(0, initStd), norm weights 1, expert
 * biases 0 (the expert-training code sets its small negative init). Each Hugging Face tensor draws from its
 * own generator seeded by (seed, name), so a tensor's initial bits do not depend on what else the model
 * has: a dense and a 2-expert model from one seed share their embedding, attention, norms and LM head bit
 * for bit.
 */
public final class Parameters {

    private final ModelConfig config;
    private final Tensor embedding;
    private final List<LayerParameters> layers;
    private final Tensor finalNorm;
    private final Tensor lmHead;
    private final List<Tensor> all;
    private final Map<String, Tensor> byName;

    /** Assembles a model from its tensors; names and shapes are checked against the config. */
    public Parameters(ModelConfig config, Tensor embedding, List<LayerParameters> layers, Tensor finalNorm,
                      Tensor lmHead) {
        this.config = config;
        this.embedding = embedding;
        this.layers = List.copyOf(layers);
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        int v = config.vocabSize(), d = config.dim(), f = config.ffnHidden();
        expect(embedding, ParameterNames.EMBED, v, d);
        if (this.layers.size() != config.layers()) {
            throw new IllegalArgumentException("Parameters: config has " + config.layers() + " layers, got "
                    + this.layers.size());
        }
        boolean dense = config.isDense();
        for (int i = 0; i < config.layers(); i++) {
            LayerParameters l = this.layers.get(i);
            for (String p : new String[] {"q", "k", "v", "o"}) {
                Tensor t = switch (p) {
                    case "q" -> l.qProj();
                    case "k" -> l.kProj();
                    case "v" -> l.vProj();
                    default -> l.oProj();
                };
                expect(t, ParameterNames.attentionProjection(i, p), d, d);
            }
            expect(l.qNorm(), ParameterNames.qkNorm(i, "q"), d);
            expect(l.kNorm(), ParameterNames.qkNorm(i, "k"), d);
            expect(l.postAttentionNorm(), ParameterNames.postAttentionNorm(i), d);
            expect(l.postFeedforwardNorm(), ParameterNames.postFeedforwardNorm(i), d);
            if (l.experts().size() != config.experts()) {
                throw new IllegalArgumentException("Parameters: layer " + i + " has " + l.experts().size()
                        + " experts, config says " + config.experts());
            }
            for (int e = 0; e < config.experts(); e++) {
                ExpertLayer x = l.expert(e);
                expect(x.gateUp(), ParameterNames.ffnGateUp(i, e, dense), 2 * f, d);
                expect(x.down(), ParameterNames.ffn(i, e, dense, "down"), d, f);
                if (dense) {
                    absent(x.routerRow(), ParameterNames.routerRow(i, e), "a dense model has no router");
                    absent(x.bias(), ParameterNames.expertBias(i, e), "a dense model has no router");
                } else {
                    expect(x.routerRow(), ParameterNames.routerRow(i, e), d);
                    if (e == 0) {
                        absent(x.bias(), ParameterNames.expertBias(i, 0), "the public expert 0 has no bias");
                    } else {
                        expect(x.bias(), ParameterNames.expertBias(i, e), 1);
                    }
                }
            }
        }
        expect(finalNorm, ParameterNames.FINAL_NORM, d);
        expect(lmHead, ParameterNames.LM_HEAD, v, d);

        List<Tensor> list = new ArrayList<>();
        list.add(embedding);
        for (LayerParameters l : this.layers) {
            list.addAll(l.tensors());
        }
        list.add(finalNorm);
        list.add(lmHead);
        Map<String, Tensor> names = new LinkedHashMap<>();
        for (Tensor t : list) {
            if (names.put(t.name(), t) != null) {
                throw new IllegalArgumentException("Parameters: tensor " + t.name() + " appears twice");
            }
        }
        // One Tensor object in two places would share a gradient and be updated twice per step.
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : list) {
            if (!seen.add(t)) {
                throw new IllegalArgumentException("Parameters: one tensor object is used twice (" + t.name() + ")");
            }
        }
        this.all = List.copyOf(list);
        this.byName = Collections.unmodifiableMap(names);
    }

    /** A freshly initialised model (see the class comment); all tensors frozen. */
    public static Parameters init(ModelConfig config, long seed) {
        int v = config.vocabSize(), d = config.dim(), f = config.ffnHidden();
        boolean dense = config.isDense();
        double std = config.initStd();
        Tensor embedding = normal(ParameterNames.EMBED, Tensor.Kind.EMBEDDING, seed, std, v, d);
        List<LayerParameters> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            List<ExpertLayer> experts = new ArrayList<>();
            for (int e = 0; e < config.experts(); e++) {
                // gate_up is filled from the generators of the two Hugging Face tensors it stacks.
                float[] gateUp = new float[2 * f * d];
                fillNormal(gateUp, 0, f * d, seed, ParameterNames.ffn(i, e, dense, "gate"), std);
                fillNormal(gateUp, f * d, f * d, seed, ParameterNames.ffn(i, e, dense, "up"), std);
                Tensor gu = new Tensor(ParameterNames.ffnGateUp(i, e, dense), Tensor.Kind.LINEAR, gateUp, 2 * f, d);
                Tensor down = normal(ParameterNames.ffn(i, e, dense, "down"), Tensor.Kind.LINEAR, seed, std, d, f);
                Tensor row = dense ? null
                        : normal(ParameterNames.routerRow(i, e), Tensor.Kind.ROUTER, seed, std, d);
                Tensor bias = dense || e == 0 ? null
                        : Tensor.zeros(ParameterNames.expertBias(i, e), Tensor.Kind.BIAS, 1);
                experts.add(new ExpertLayer(gu, down, row, bias));
            }
            layers.add(new LayerParameters(
                    normal(ParameterNames.attentionProjection(i, "q"), Tensor.Kind.LINEAR, seed, std, d, d),
                    normal(ParameterNames.attentionProjection(i, "k"), Tensor.Kind.LINEAR, seed, std, d, d),
                    normal(ParameterNames.attentionProjection(i, "v"), Tensor.Kind.LINEAR, seed, std, d, d),
                    normal(ParameterNames.attentionProjection(i, "o"), Tensor.Kind.LINEAR, seed, std, d, d),
                    ones(ParameterNames.qkNorm(i, "q"), d),
                    ones(ParameterNames.qkNorm(i, "k"), d),
                    ones(ParameterNames.postAttentionNorm(i), d),
                    ones(ParameterNames.postFeedforwardNorm(i), d),
                    experts));
        }
        Tensor norm = ones(ParameterNames.FINAL_NORM, d);
        Tensor head = normal(ParameterNames.LM_HEAD, Tensor.Kind.LINEAR, seed, std, v, d);
        return new Parameters(config, embedding, layers, norm, head);
    }

    public ModelConfig config() {
        return config;
    }

    public Tensor embedding() {
        return embedding;
    }

    public List<LayerParameters> layers() {
        return layers;
    }

    public LayerParameters layer(int i) {
        return layers.get(i);
    }

    /** Expert {@code e}'s tensors in layer {@code layer}. */
    public ExpertLayer expert(int layer, int e) {
        return layers.get(layer).expert(e);
    }

    public Tensor finalNorm() {
        return finalNorm;
    }

    public Tensor lmHead() {
        return lmHead;
    }

    /** Every tensor, in a fixed order: embedding, blocks (attention, experts, FFN norm), final norm, LM head. */
    public List<Tensor> tensors() {
        return all;
    }

    /** The trainable tensors, in {@link #tensors()} order (what the optimizer and clipping see). */
    public List<Tensor> trainable() {
        List<Tensor> list = new ArrayList<>();
        for (Tensor t : all) {
            if (t.trainable()) {
                list.add(t);
            }
        }
        return list;
    }

    /** The tensor with this internal name. */
    public Tensor tensor(String name) {
        Tensor t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("Parameters: no tensor named '" + name + "'");
        }
        return t;
    }

    /** Total number of parameter values. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : all) {
            n += t.size();
        }
        return n;
    }

    /** Makes exactly the tensors matching {@code which} trainable; all others frozen (gradients dropped). */
    public void setTrainable(Predicate<Tensor> which) {
        for (Tensor t : all) {
            t.setTrainable(which.test(t));
        }
    }

    /** Everything trainable (public-model pre-training). */
    public void trainAll() {
        setTrainable(t -> true);
    }

    /** Everything frozen (evaluation). */
    public void freezeAll() {
        setTrainable(t -> false);
    }

    /**
     * FlexOlmo's coordinated expert training: only expert {@code e}'s FFN, router row and bias in every layer
     * train; the public expert, its router row and everything shared stay frozen.
     */
    public void trainOnlyExpert(int e) {
        if (config.isDense() || e < 1 || e >= config.experts()) {
            throw new IllegalArgumentException("trainOnlyExpert: expert must be in [1, " + config.experts()
                    + ") of an MoE model (expert 0 is the frozen public expert), got " + e);
        }
        Set<Tensor> chosen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (LayerParameters l : layers) {
            chosen.addAll(l.expert(e).tensors());
        }
        setTrainable(chosen::contains);
    }

    /** Zeroes every gradient buffer (backward accumulates). */
    public void zeroGrads() {
        for (Tensor t : all) {
            t.zeroGrad();
        }
    }

    /**
     * The Hugging Face tensors (fresh copies): gate_up split into gate_proj and up_proj, router rows stacked
     * into {@code mlp.gate.weight} [E, D] and biases into {@code mlp.gate.expert_bias} [E] with entry 0 = 0.
     */
    public List<NamedTensor> huggingFaceTensors() {
        int d = config.dim(), f = config.ffnHidden(), experts = config.experts();
        boolean dense = config.isDense();
        List<NamedTensor> out = new ArrayList<>();
        out.add(copy(embedding));
        for (int i = 0; i < layers.size(); i++) {
            LayerParameters l = layers.get(i);
            for (Tensor t : List.of(l.qProj(), l.kProj(), l.vProj(), l.oProj(), l.qNorm(), l.kNorm(),
                    l.postAttentionNorm(), l.postFeedforwardNorm())) {
                out.add(copy(t));
            }
            if (!dense) {
                float[] router = new float[experts * d];
                float[] bias = new float[experts];
                for (int e = 0; e < experts; e++) {
                    ExpertLayer x = l.expert(e);
                    System.arraycopy(x.routerRow().data(), 0, router, e * d, d);
                    bias[e] = x.bias() == null ? 0f : x.bias().data()[0];
                }
                out.add(new NamedTensor(ParameterNames.router(i), new int[] {experts, d}, router));
                out.add(new NamedTensor(ParameterNames.expertBias(i), new int[] {experts}, bias));
            }
            for (int e = 0; e < experts; e++) {
                ExpertLayer x = l.expert(e);
                float[] gu = x.gateUp().data();
                out.add(new NamedTensor(ParameterNames.ffn(i, e, dense, "gate"), new int[] {f, d},
                        Arrays.copyOfRange(gu, 0, f * d)));
                out.add(new NamedTensor(ParameterNames.ffn(i, e, dense, "up"), new int[] {f, d},
                        Arrays.copyOfRange(gu, f * d, 2 * f * d)));
                out.add(copy(x.down()));
            }
        }
        out.add(copy(finalNorm));
        out.add(copy(lmHead));
        return out;
    }

    /**
     * The inverse of {@link #huggingFaceTensors}: every tensor the config implies must be present with its
     * shape, no other may be, and {@code expert_bias[0]} must be 0 (the public expert has no bias). Data is
     * copied; all tensors start frozen.
     */
    public static Parameters fromHuggingFace(ModelConfig config, List<NamedTensor> tensors) {
        Map<String, NamedTensor> byName = new LinkedHashMap<>();
        for (NamedTensor t : tensors) {
            if (byName.put(t.name(), t) != null) {
                throw new IllegalArgumentException("fromHuggingFace: tensor " + t.name() + " appears twice");
            }
        }
        int v = config.vocabSize(), d = config.dim(), f = config.ffnHidden(), experts = config.experts();
        boolean dense = config.isDense();
        Tensor embedding = take(byName, ParameterNames.EMBED, Tensor.Kind.EMBEDDING, v, d);
        List<LayerParameters> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            float[] router = dense ? null : take(byName, ParameterNames.router(i), Tensor.Kind.ROUTER, experts, d)
                    .data();
            float[] bias = dense ? null : take(byName, ParameterNames.expertBias(i), Tensor.Kind.BIAS, experts)
                    .data();
            if (bias != null && bias[0] != 0f) {
                throw new IllegalArgumentException("fromHuggingFace: " + ParameterNames.expertBias(i)
                        + "[0] must be 0 (the public expert has no bias), got " + bias[0]);
            }
            List<ExpertLayer> list = new ArrayList<>();
            for (int e = 0; e < experts; e++) {
                float[] gu = new float[2 * f * d];
                System.arraycopy(take(byName, ParameterNames.ffn(i, e, dense, "gate"), Tensor.Kind.LINEAR, f, d)
                        .data(), 0, gu, 0, f * d);
                System.arraycopy(take(byName, ParameterNames.ffn(i, e, dense, "up"), Tensor.Kind.LINEAR, f, d)
                        .data(), 0, gu, f * d, f * d);
                Tensor down = take(byName, ParameterNames.ffn(i, e, dense, "down"), Tensor.Kind.LINEAR, d, f);
                Tensor row = dense ? null : new Tensor(ParameterNames.routerRow(i, e), Tensor.Kind.ROUTER,
                        Arrays.copyOfRange(router, e * d, (e + 1) * d), d);
                Tensor b = dense || e == 0 ? null : new Tensor(ParameterNames.expertBias(i, e), Tensor.Kind.BIAS,
                        new float[] {bias[e]}, 1);
                list.add(new ExpertLayer(new Tensor(ParameterNames.ffnGateUp(i, e, dense), Tensor.Kind.LINEAR, gu,
                        2 * f, d), down, row, b));
            }
            layers.add(new LayerParameters(
                    take(byName, ParameterNames.attentionProjection(i, "q"), Tensor.Kind.LINEAR, d, d),
                    take(byName, ParameterNames.attentionProjection(i, "k"), Tensor.Kind.LINEAR, d, d),
                    take(byName, ParameterNames.attentionProjection(i, "v"), Tensor.Kind.LINEAR, d, d),
                    take(byName, ParameterNames.attentionProjection(i, "o"), Tensor.Kind.LINEAR, d, d),
                    take(byName, ParameterNames.qkNorm(i, "q"), Tensor.Kind.NORM, d),
                    take(byName, ParameterNames.qkNorm(i, "k"), Tensor.Kind.NORM, d),
                    take(byName, ParameterNames.postAttentionNorm(i), Tensor.Kind.NORM, d),
                    take(byName, ParameterNames.postFeedforwardNorm(i), Tensor.Kind.NORM, d),
                    list));
        }
        Tensor norm = take(byName, ParameterNames.FINAL_NORM, Tensor.Kind.NORM, d);
        Tensor head = take(byName, ParameterNames.LM_HEAD, Tensor.Kind.LINEAR, v, d);
        if (!byName.isEmpty()) {
            throw new IllegalArgumentException("fromHuggingFace: unexpected tensor " + byName.keySet().iterator()
                    .next() + " for a model with " + config.layers() + " layers and " + experts + " experts");
        }
        return new Parameters(config, embedding, layers, norm, head);
    }

    private static Tensor take(Map<String, NamedTensor> byName, String name, Tensor.Kind kind, int... shape) {
        NamedTensor t = byName.remove(name);
        if (t == null) {
            throw new IllegalArgumentException("fromHuggingFace: tensor " + name + " is missing");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("fromHuggingFace: tensor " + name + " has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return new Tensor(name, kind, t.data().clone(), shape);
    }

    private static NamedTensor copy(Tensor t) {
        return new NamedTensor(t.name(), t.shape(), t.data().clone());
    }

    private static void expect(Tensor t, String name, int... shape) {
        if (t == null) {
            throw new IllegalArgumentException("Parameters: tensor " + name + " is missing");
        }
        if (!t.name().equals(name)) {
            throw new IllegalArgumentException("Parameters: expected tensor " + name + ", got " + t.name());
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("Parameters: tensor " + name + " has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
    }

    private static void absent(Tensor t, String name, String why) {
        if (t != null) {
            throw new IllegalArgumentException("Parameters: unexpected tensor " + name + " (" + why + ")");
        }
    }

    private static Tensor normal(String name, Tensor.Kind kind, long seed, double std, int... shape) {
        Tensor t = Tensor.zeros(name, kind, shape);
        fillNormal(t.data(), 0, t.size(), seed, name, std);
        return t;
    }

    private static Tensor ones(String name, int d) {
        Tensor t = Tensor.zeros(name, Tensor.Kind.NORM, d);
        Arrays.fill(t.data(), 1f);
        return t;
    }

    /** Fills {@code a[off, off + n)} from the generator of (seed, name). */
    private static void fillNormal(float[] a, int off, int n, long seed, String name, double std) {
        SplittableRandom rng = new SplittableRandom(streamSeed(seed, name));
        for (int i = 0; i < n; i++) {
            a[off + i] = (float) (std * rng.nextGaussian());
        }
    }

    /** FNV-1a of the UTF-8 name, mixed with the model seed: one independent stream per tensor name. */
    static long streamSeed(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return seed * 0x9E3779B97F4A7C15L + h;
    }
}
