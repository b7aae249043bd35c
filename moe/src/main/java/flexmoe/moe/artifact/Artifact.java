package flexmoe.moe.artifact;

import flexmoe.moe.data.TokenizerFingerprint;
import flexmoe.moe.model.ModelConfig;
import flexmoe.moe.model.NamedTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A flexmoe artifact: one safetensors file with Hugging Face tensor names and {@link ArtifactMetadata}. Three kinds,
 * each with its tensor layout (see the subclasses): the dense {@link PublicModelArtifact}, an
 * {@link ExpertArtifact}, and a {@link ComposedModel}.
 *
 * <p>An artifact is immutable: it keeps its tensors private and hands out copies, so its {@link #fingerprint()}
 * always describes what it holds. The fingerprint is the SHA-256 of the file's bytes: of the file it was loaded
 * from, or, for one made in memory, of the bytes {@link #save} writes (the writer is deterministic, so saving it gives
 * a file with exactly this fingerprint).
 *
 * <p>Loading ({@link #load}) checks, in order: the safetensors container ({@link SafeTensors#read}), the
 * {@code __metadata__} keys (only {@code "format": "pt"} and {@value ArtifactMetadata#KEY}), the metadata schema, the
 * data section against the metadata's {@code dataSha256}, and the tensor set and shapes against the config. Every
 * problem is an {@link ArtifactFormatException} naming the file.
 */
public abstract sealed class Artifact permits PublicModelArtifact, ExpertArtifact, ComposedModel {

    /** The {@code __metadata__} "format" value Hugging Face's loaders expect (it names the framework). */
    static final String HF_FORMAT = "pt";

    private final ArtifactMetadata metadata;
    private final Map<String, NamedTensor> tensors;
    private final Path source;
    private ArtifactFingerprint fingerprint;

    /** Tensors are taken over, not copied: callers pass fresh arrays they keep no reference to. */
    Artifact(ArtifactMetadata metadata, List<NamedTensor> tensors, Path source, ArtifactFingerprint fingerprint) {
        this.metadata = metadata;
        Map<String, NamedTensor> map = new LinkedHashMap<>();
        for (NamedTensor t : SafeTensors.sorted(tensors)) {
            if (map.put(t.name(), t) != null) {
                throw new IllegalArgumentException("artifact: tensor " + t.name() + " appears twice");
            }
        }
        this.tensors = map;
        this.source = source;
        this.fingerprint = fingerprint;
    }

    /** Loads any kind of artifact (see the class comment for what is checked). */
    public static Artifact load(Path file) {
        Loaded loaded = Loaded.read(file);
        return switch (loaded.metadata().kind()) {
            case PUBLIC -> new PublicModelArtifact(loaded);
            case EXPERT -> new ExpertArtifact(loaded);
            case COMPOSED -> new ComposedModel(loaded);
        };
    }

    public ArtifactMetadata metadata() {
        return metadata;
    }

    public ArtifactKind kind() {
        return metadata.kind();
    }

    /** The model configuration recorded in the metadata. */
    public ModelConfig config() {
        return metadata.config();
    }

    public TokenizerFingerprint tokenizer() {
        return metadata.tokenizer();
    }

    /** The file this artifact was loaded from, or null when it was made in memory. */
    public Path source() {
        return source;
    }

    /** SHA-256 of the file's bytes (see the class comment). */
    public synchronized ArtifactFingerprint fingerprint() {
        if (fingerprint == null) {
            fingerprint = SafeTensors.fingerprint(List.copyOf(tensors.values()), fileMetadata());
        }
        return fingerprint;
    }

    /** Writes the artifact atomically; returns the fingerprint of the file written. */
    public ArtifactFingerprint save(Path file) {
        return SafeTensors.write(file, List.copyOf(tensors.values()), fileMetadata());
    }

    /** The tensors as stored in the file, in file order (copies). */
    public List<NamedTensor> tensors() {
        List<NamedTensor> list = new ArrayList<>(tensors.size());
        for (NamedTensor t : tensors.values()) {
            list.add(new NamedTensor(t.name(), t.shape(), t.data().clone()));
        }
        return list;
    }

    /** Number of tensors in the file. */
    public int tensorCount() {
        return tensors.size();
    }

    /** Bytes of tensor data in the file. */
    public long tensorBytes() {
        long n = 0;
        for (NamedTensor t : tensors.values()) {
            n += (long) t.data().length * Float.BYTES;
        }
        return n;
    }

    /** "math (experts/math.safetensors)" or the domain alone: how messages name this artifact. */
    public String describe() {
        return metadata.domain() + (source == null ? "" : " (" + source + ")");
    }

    // ---- for the subclasses ---------------------------------------------------------------------------------

    /** The stored tensor (not a copy: read it, never hand it out). */
    NamedTensor stored(String name) {
        NamedTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalStateException("artifact: no tensor " + name); // the layout was validated on creation
        }
        return t;
    }

    boolean has(String name) {
        return tensors.containsKey(name);
    }

    Set<String> names() {
        return tensors.keySet();
    }

    /** A copy of a stored tensor's values. */
    float[] values(String name) {
        return stored(name).data().clone();
    }

    /** An error about this artifact's file (or the artifact in memory). */
    ArtifactFormatException invalid(String message) {
        return new ArtifactFormatException((source == null ? metadata.kind().jsonName() + " artifact" : source)
                + ": " + message);
    }

    /** Checks a tensor's presence and shape; for the subclasses' layout checks. */
    void expectShape(String name, int... shape) {
        NamedTensor t = tensors.get(name);
        if (t == null) {
            throw invalid("tensor " + name + " is missing");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw invalid("tensor " + name + " has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
    }

    /** Fails on the first tensor not in {@code expected}. */
    void noOtherTensors(Set<String> expected, String what) {
        for (String name : tensors.keySet()) {
            if (!expected.contains(name)) {
                throw invalid("unexpected tensor " + SafeTensors.quote(name) + " in " + what);
            }
        }
    }

    private Map<String, String> fileMetadata() {
        String json = metadata.toJsonString(SafeTensors.dataSha256(List.copyOf(tensors.values())));
        return Map.of("format", HF_FORMAT, ArtifactMetadata.KEY, json);
    }

    /** A file read and checked up to the metadata; the subclasses check the tensors. */
    record Loaded(Path file, ArtifactMetadata metadata, List<NamedTensor> tensors, ArtifactFingerprint fingerprint) {

        static Loaded read(Path file) {
            SafeTensors.Contents c = SafeTensors.read(file);
            Map<String, String> meta = c.header().metadata();
            for (String key : meta.keySet()) {
                if (!key.equals("format") && !key.equals(ArtifactMetadata.KEY)) {
                    throw new ArtifactFormatException(file + ": unexpected __metadata__ key "
                            + SafeTensors.quote(key) + " (a flexmoe artifact has only format and "
                            + ArtifactMetadata.KEY + ")");
                }
            }
            String format = meta.get("format");
            if (format != null && !format.equals(HF_FORMAT)) {
                throw new ArtifactFormatException(file + ": __metadata__ format is " + SafeTensors.quote(format)
                        + ", expected '" + HF_FORMAT + "'");
            }
            String json = meta.get(ArtifactMetadata.KEY);
            if (json == null) {
                throw new ArtifactFormatException(file + ": no __metadata__ key " + ArtifactMetadata.KEY
                        + ": not a flexmoe artifact");
            }
            ArtifactMetadata.Parsed parsed = ArtifactMetadata.parse(json, file.toString());
            if (!parsed.dataSha256().equals(c.dataSha256())) {
                throw new ArtifactFormatException(file + ": the data section's SHA-256 is "
                        + c.dataSha256().substring(0, 12) + ", the metadata says " + parsed.dataSha256().substring(0, 12)
                        + ": the tensor data is corrupt");
            }
            return new Loaded(file, parsed.metadata(), c.tensors(), c.fileSha256());
        }

        /** Fails unless the file holds this kind. */
        Loaded requireKind(ArtifactKind kind) {
            if (metadata.kind() != kind) {
                throw new ArtifactFormatException(file + ": is " + withArticle(metadata.kind()) + " artifact, expected "
                        + withArticle(kind) + " one");
            }
            return this;
        }
    }

    /** "a public", "an expert", "a composed". */
    static String withArticle(ArtifactKind kind) {
        return (kind == ArtifactKind.EXPERT ? "an " : "a ") + kind.jsonName();
    }

    /** Same architecture: everything but the expert count, top-k and the loss weights. */
    static String architectureDifference(ModelConfig a, ModelConfig b) {
        String[][] fields = {
                {"vocabSize", "" + a.vocabSize(), "" + b.vocabSize()},
                {"dim", "" + a.dim(), "" + b.dim()},
                {"layers", "" + a.layers(), "" + b.layers()},
                {"heads", "" + a.heads(), "" + b.heads()},
                {"ffnHidden", "" + a.ffnHidden(), "" + b.ffnHidden()},
                {"maxSeqLen", "" + a.maxSeqLen(), "" + b.maxSeqLen()},
                {"ropeTheta", "" + a.ropeTheta(), "" + b.ropeTheta()},
                {"normEps", "" + a.normEps(), "" + b.normEps()}};
        for (String[] f : fields) {
            if (!f[1].equals(f[2])) {
                return f[0] + " " + f[1] + " vs " + f[2];
            }
        }
        return null;
    }
}
