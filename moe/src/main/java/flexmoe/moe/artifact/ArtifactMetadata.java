package flexmoe.moe.artifact;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.ModelConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The metadata of an artifact, stored as one JSON string under the key {@value #KEY} of the safetensors
 * {@code __metadata__} (next to {@code "format": "pt"}, which Hugging Face's loaders expect). Field names are
 * camelCase, as in the project's other JSON. Format version {@value #FORMAT_VERSION}:
 *
 * <pre>
 * public:   {"formatVersion": 1, "kind": "public", "domain": "public", "config": {ModelConfig}, "tokensSeen": N,
 *            "seed": S, "privacy": null, "training": null, "tokenizerSha256": "...", "dataSha256": "..."}
 * expert:   the same fields, kind "expert", plus "publicModelSha256": "..." (the public model it was trained against)
 * composed: {"formatVersion": 1, "kind": "composed", "config": {...}, "tokenizerSha256": "...",
 *            "publicModelSha256": "...", "parts": [{"domain", "sha256", "tokensSeen", "seed", "privacy", "training"}, ...],
 *            "dataSha256": "..."}                          (parts[0] is the public model, parts[e] is expert e)
 *           + optionally "routerTuning": {...}       (the router was tuned after the merge, see below)
 * </pre>
 *
 * {@code config} holds every {@link ModelConfig} component under its own name: the dense public model's config,
 * the expert's training config (2 experts, top-2), the composed model's (1 + n experts, top-k). {@code privacy} is
 * null or an object defined by the DP issue, carried verbatim; {@code training} likewise null or an object (an
 * expert's training settings, e.g. {@code routerLrScale}), and the one field that may be absent: files written
 * before it existed read as null. {@code dataSha256} is the SHA-256 of the file's data
 * section: it catches a corrupt tensor byte that would otherwise load as a different finite number.
 *
 * <p>{@code routerTuning} (composed models only; absent or null when the router is the plain stack of the parts'
 * rows) records FlexOlmo's optional router tuning ({@link flexmoe.moe.router.RouterTuning}): an object with what the
 * router was tuned on. Its presence is what tells a reader that the router rows and biases are no longer the parts'
 * own, so the exact opt-out guarantee (removing an expert gives the bits of the model composed without it) does not
 * hold for this model: it holds only for the untuned composition.
 *
 * <p>Reading is strict: every field of the kind must be present, none other may be, each with its JSON type
 * (integers must be integers, not strings or fractions); a problem names the field, e.g. {@code config.dim}.
 *
 * @param kind        what the file holds
 * @param config      the model configuration (see above)
 * @param tokenizer   fingerprint of the tokenizer every part was trained with
 * @param publicModel fingerprint of the public model file (experts and composed models; null for the public model)
 * @param parts       the public model's or expert's own record (one part, no fingerprint), or a composed model's
 *                    parts in expert order (each with the fingerprint of its file)
 */
public record ArtifactMetadata(ArtifactKind kind, ModelConfig config, TokenizerFingerprint tokenizer,
                               ArtifactFingerprint publicModel, List<ArtifactPart> parts, ObjectNode routerTuning) {

    /** The {@code __metadata__} key holding the JSON. */
    public static final String KEY = "flexmoe";
    /** The version written, and the only one read. */
    public static final int FORMAT_VERSION = 1;
    /** Longest metadata JSON accepted. */
    static final int MAX_JSON_CHARS = 1 << 20;

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build())
            .build());

    public ArtifactMetadata {
        if (kind == null || config == null || tokenizer == null || parts == null) {
            throw new IllegalArgumentException("artifact metadata: kind, config, tokenizer and parts are required");
        }
        parts = List.copyOf(parts);
        routerTuning = routerTuning == null ? null : routerTuning.deepCopy();
        if (routerTuning != null && kind != ArtifactKind.COMPOSED) {
            throw new IllegalArgumentException("artifact metadata: only a composed model can be router-tuned, this is a "
                    + kind.jsonName() + " file");
        }
        switch (kind) {
            case PUBLIC, EXPERT -> {
                if (parts.size() != 1 || parts.getFirst().fingerprint() != null) {
                    throw new IllegalArgumentException("artifact metadata: a " + kind.jsonName() + " file describes"
                            + " one part, itself, without a fingerprint");
                }
                if (kind == ArtifactKind.PUBLIC && (!config.isDense() || publicModel != null)) {
                    throw new IllegalArgumentException("artifact metadata: a public model is dense (experts 1) and"
                            + " has no public-model fingerprint");
                }
                if (kind == ArtifactKind.EXPERT && (config.experts() != 2 || publicModel == null)) {
                    throw new IllegalArgumentException("artifact metadata: an expert is trained as a 2-expert model"
                            + " (config.experts 2, got " + config.experts() + ") against a public model"
                            + " (publicModelSha256 required)");
                }
            }
            case COMPOSED -> {
                if (publicModel == null || parts.size() != config.experts()) {
                    throw new IllegalArgumentException("artifact metadata: a composed model has a public-model"
                            + " fingerprint and one part per expert (config.experts " + config.experts() + ", parts "
                            + parts.size() + ")");
                }
                Set<String> names = new HashSet<>();
                for (ArtifactPart p : parts) {
                    if (p.fingerprint() == null) {
                        throw new IllegalArgumentException("artifact metadata: part " + p.domain() + " of a composed"
                                + " model has no fingerprint");
                    }
                    if (!names.add(p.domain())) {
                        throw new IllegalArgumentException("artifact metadata: part name " + p.domain()
                                + " appears twice");
                    }
                }
                if (!parts.getFirst().fingerprint().equals(publicModel)) {
                    throw new IllegalArgumentException("artifact metadata: parts[0] must be the public model "
                            + publicModel.shortForm() + ", got " + parts.getFirst().fingerprint().shortForm());
                }
            }
        }
    }

    /** Metadata without router tuning (every public model and expert; a composed model as merged). */
    public ArtifactMetadata(ArtifactKind kind, ModelConfig config, TokenizerFingerprint tokenizer,
                            ArtifactFingerprint publicModel, List<ArtifactPart> parts) {
        this(kind, config, tokenizer, publicModel, parts, null);
    }

    /** True for a composed model whose router was tuned after the merge (then opt-out is not exact). */
    public boolean routerTuned() {
        return routerTuning != null;
    }

    /** The same metadata with this router-tuning record (null: none). */
    public ArtifactMetadata withRouterTuning(ObjectNode record) {
        return new ArtifactMetadata(kind, config, tokenizer, publicModel, parts, record);
    }

    /** The domain of a public model or expert (the first part's for a composed model: the public model's). */
    public String domain() {
        return parts.getFirst().domain();
    }

    /** The part names in expert order. */
    public List<String> partNames() {
        List<String> names = new ArrayList<>();
        for (ArtifactPart p : parts) {
            names.add(p.domain());
        }
        return names;
    }

    // ---- JSON ------------------------------------------------------------------------------------------------

    /** The metadata as JSON, with the data section's SHA-256 (the same fields, in the order documented above). */
    ObjectNode toJson(String dataSha256) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("formatVersion", FORMAT_VERSION);
        o.put("kind", kind.jsonName());
        if (kind != ArtifactKind.COMPOSED) {
            ArtifactPart self = parts.getFirst();
            o.put("domain", self.domain());
            o.set("config", configJson(config));
            o.put("tokensSeen", self.tokensSeen());
            o.put("seed", self.seed());
            o.set("privacy", self.privacy());
            o.set("training", self.training());
            o.put("tokenizerSha256", tokenizer.sha256());
            if (kind == ArtifactKind.EXPERT) {
                o.put("publicModelSha256", publicModel.sha256());
            }
        } else {
            o.set("config", configJson(config));
            o.put("tokenizerSha256", tokenizer.sha256());
            o.put("publicModelSha256", publicModel.sha256());
            ArrayNode list = o.putArray("parts");
            for (ArtifactPart p : parts) {
                ObjectNode po = list.addObject();
                po.put("domain", p.domain());
                po.put("sha256", p.fingerprint().sha256());
                po.put("tokensSeen", p.tokensSeen());
                po.put("seed", p.seed());
                po.set("privacy", p.privacy());
                po.set("training", p.training());
            }
            if (routerTuning != null) {
                o.set("routerTuning", routerTuning);
            }
        }
        o.put("dataSha256", dataSha256);
        return o;
    }

    /** {@link #toJson} as a compact string. */
    String toJsonString(String dataSha256) {
        try {
            return MAPPER.writeValueAsString(toJson(dataSha256));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("metadata JSON cannot be written", e);
        }
    }

    /** Metadata read from a file, with the data-section checksum it declares. */
    record Parsed(ArtifactMetadata metadata, String dataSha256) {
    }

    /** Parses and validates the metadata JSON of {@code source} (named in every error). */
    static Parsed parse(String json, String source) {
        if (json.length() > MAX_JSON_CHARS) {
            throw new ArtifactFormatException(source + ": the " + KEY + " metadata is " + json.length()
                    + " characters, more than " + MAX_JSON_CHARS);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().replaceAll("\\p{Cntrl}+", " ");
            throw new ArtifactFormatException(source + ": the " + KEY + " metadata is not valid JSON: "
                    + (why.length() > 200 ? why.substring(0, 200) + "..." : why));
        }
        return new Fields(source).root(root);
    }

    /** Strict field-by-field reading; every error names the field. */
    private record Fields(String source) {

        Parsed root(JsonNode root) {
            if (root == null || !root.isObject()) {
                throw fail("", "expected a JSON object, got " + type(root));
            }
            int version = intField(root, "formatVersion", "");
            if (version != FORMAT_VERSION) {
                throw fail("formatVersion", "this flexmoe reads format version " + FORMAT_VERSION + ", got "
                        + version);
            }
            String kindName = text(root, "kind", "");
            ArtifactKind kind = ArtifactKind.fromJson(kindName);
            if (kind == null) {
                throw fail("kind", "expected public, expert or composed, got " + SafeTensors.quote(kindName));
            }
            Set<String> expected = new LinkedHashSet<>(List.of("formatVersion", "kind"));
            ModelConfig config = config(field(root, "config", ""));
            TokenizerFingerprint tokenizer = tokenizer(root);
            ArtifactFingerprint publicModel = null;
            List<ArtifactPart> parts = new ArrayList<>();
            ObjectNode routerTuning = null;
            if (kind == ArtifactKind.COMPOSED) {
                expected.addAll(List.of("config", "tokenizerSha256", "publicModelSha256", "parts", "dataSha256",
                        "routerTuning"));
                JsonNode rt = root.get("routerTuning");
                if (rt != null && !rt.isNull() && !rt.isObject()) {
                    throw fail("routerTuning", "expected null or an object, got " + type(rt));
                }
                routerTuning = rt == null || rt.isNull() ? null : (ObjectNode) rt;
                publicModel = fingerprint(root, "publicModelSha256", "");
                JsonNode list = field(root, "parts", "");
                if (!list.isArray() || list.isEmpty()) {
                    throw fail("parts", "expected a non-empty array, got " + type(list));
                }
                for (int i = 0; i < list.size(); i++) {
                    String prefix = "parts[" + i + "].";
                    JsonNode p = list.get(i);
                    if (!p.isObject()) {
                        throw fail("parts[" + i + "]", "expected an object, got " + type(p));
                    }
                    noOthers(p, prefix, Set.of("domain", "sha256", "tokensSeen", "seed", "privacy", "training"));
                    parts.add(part(p, prefix, fingerprint(p, "sha256", prefix)));
                }
            } else {
                expected.addAll(List.of("domain", "config", "tokensSeen", "seed", "privacy", "training",
                        "tokenizerSha256", "dataSha256"));
                if (kind == ArtifactKind.EXPERT) {
                    expected.add("publicModelSha256");
                    publicModel = fingerprint(root, "publicModelSha256", "");
                }
                parts.add(part(root, "", null));
            }
            noOthers(root, "", expected);
            String dataSha256 = text(root, "dataSha256", "");
            if (!dataSha256.matches("[0-9a-f]{64}")) {
                throw fail("dataSha256", "expected 64 lowercase hex digits");
            }
            try {
                return new Parsed(new ArtifactMetadata(kind, config, tokenizer, publicModel, parts, routerTuning),
                        dataSha256);
            } catch (IllegalArgumentException e) {
                throw new ArtifactFormatException(source + ": " + e.getMessage(), e);
            }
        }

        private ArtifactPart part(JsonNode o, String prefix, ArtifactFingerprint fingerprint) {
            String domain = text(o, "domain", prefix);
            long tokensSeen = longField(o, "tokensSeen", prefix);
            long seed = longField(o, "seed", prefix);
            JsonNode privacy = field(o, "privacy", prefix);
            if (!privacy.isNull() && !privacy.isObject()) {
                throw fail(prefix + "privacy", "expected null or an object, got " + type(privacy));
            }
            JsonNode training = o.get("training");
            if (training != null && !training.isNull() && !training.isObject()) {
                throw fail(prefix + "training", "expected null or an object, got " + type(training));
            }
            try {
                return new ArtifactPart(domain, tokensSeen, seed, privacy.isNull() ? null : (ObjectNode) privacy,
                        training == null || training.isNull() ? null : (ObjectNode) training, fingerprint);
            } catch (IllegalArgumentException e) {
                throw fail(prefix + (tokensSeen < 0 ? "tokensSeen" : "domain"), e.getMessage());
            }
        }

        private TokenizerFingerprint tokenizer(JsonNode root) {
            String hex = text(root, "tokenizerSha256", "");
            try {
                return new TokenizerFingerprint(hex);
            } catch (IllegalArgumentException e) {
                throw fail("tokenizerSha256", "expected 64 lowercase hex digits");
            }
        }

        private ArtifactFingerprint fingerprint(JsonNode o, String name, String prefix) {
            String hex = text(o, name, prefix);
            try {
                return new ArtifactFingerprint(hex);
            } catch (IllegalArgumentException e) {
                throw fail(prefix + name, "expected 64 lowercase hex digits");
            }
        }

        /** Every ModelConfig component, by name; ints must be JSON integers, doubles any finite number. */
        private ModelConfig config(JsonNode o) {
            if (!o.isObject()) {
                throw fail("config", "expected an object, got " + type(o));
            }
            RecordComponent[] components = ModelConfig.class.getRecordComponents();
            Object[] args = new Object[components.length];
            Class<?>[] types = new Class<?>[components.length];
            Set<String> names = new HashSet<>();
            for (int i = 0; i < components.length; i++) {
                String name = components[i].getName();
                names.add(name);
                types[i] = components[i].getType();
                if (types[i] == int.class) {
                    args[i] = intField(o, name, "config.");
                } else if (types[i] == double.class) {
                    JsonNode v = field(o, name, "config.");
                    if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
                        throw fail("config." + name, "expected a finite number, got " + type(v));
                    }
                    args[i] = v.doubleValue();
                } else {
                    throw new IllegalStateException("ModelConfig." + name + " has type " + types[i]
                            + ", which the metadata codec does not know");
                }
            }
            noOthers(o, "config.", names);
            try {
                return ModelConfig.class.getDeclaredConstructor(types).newInstance(args);
            } catch (InvocationTargetException e) {
                throw fail("config", e.getCause().getMessage());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("ModelConfig's canonical constructor is not accessible", e);
            }
        }

        private JsonNode field(JsonNode o, String name, String prefix) {
            JsonNode v = o.get(name);
            if (v == null) {
                throw fail(prefix + name, "is missing");
            }
            return v;
        }

        private String text(JsonNode o, String name, String prefix) {
            JsonNode v = field(o, name, prefix);
            if (!v.isTextual()) {
                throw fail(prefix + name, "expected a string, got " + type(v));
            }
            return v.textValue();
        }

        private int intField(JsonNode o, String name, String prefix) {
            JsonNode v = field(o, name, prefix);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw fail(prefix + name, "expected an integer (32-bit), got " + type(v));
            }
            return v.intValue();
        }

        private long longField(JsonNode o, String name, String prefix) {
            JsonNode v = field(o, name, prefix);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw fail(prefix + name, "expected an integer (64-bit), got " + type(v));
            }
            return v.longValue();
        }

        private void noOthers(JsonNode o, String prefix, Set<String> allowed) {
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!allowed.contains(name)) {
                    throw fail(prefix + SafeTensors.quote(name).replace("'", ""), "is not a field of this kind of"
                            + " artifact (expected " + String.join(", ", allowed) + ")");
                }
            }
        }

        private ArtifactFormatException fail(String field, String message) {
            String where = field.isEmpty() ? "" : " field " + field;
            return new ArtifactFormatException(source + ": " + KEY + " metadata" + where + ": " + message);
        }

        private static String type(JsonNode v) {
            if (v == null) {
                return "nothing";
            }
            JsonNodeType t = v.getNodeType();
            return switch (t) {
                case STRING -> "a string";
                case NUMBER -> !v.isIntegralNumber() ? "a non-integral number"
                        : !v.canConvertToLong() ? "an integer beyond 64 bits"
                        : !v.canConvertToInt() ? "an integer beyond 32 bits" : "an integer";
                case BOOLEAN -> "a boolean";
                case NULL -> "null";
                case OBJECT -> "an object";
                case ARRAY -> "an array";
                default -> t.toString().toLowerCase();
            };
        }
    }

    static ObjectNode configJson(ModelConfig config) {
        ObjectNode o = MAPPER.createObjectNode();
        for (RecordComponent c : ModelConfig.class.getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(config);
                if (v instanceof Integer i) {
                    o.put(c.getName(), i);
                } else {
                    o.put(c.getName(), (Double) v);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("ModelConfig." + c.getName() + " cannot be read", e);
            }
        }
        return o;
    }
}
