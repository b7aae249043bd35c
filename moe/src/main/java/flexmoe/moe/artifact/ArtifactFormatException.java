package flexmoe.moe.artifact;

/**
 * A safetensors file or flexmoe artifact that cannot be used: corrupt, truncated, hostile, of another format
 * version, or not matching its own metadata. The message is one line naming the file, the tensor or metadata field,
 * and what was expected, e.g. {@code expert.safetensors: tensor 'model.layers.0.mlp.gate.weight': data_offsets
 * [0, 64] span 64 bytes, shape [2, 32] of F32 needs 256}.
 */
public final class ArtifactFormatException extends RuntimeException {

    public ArtifactFormatException(String message) {
        super(message);
    }

    public ArtifactFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
