package flexmoe.moe.eval;

import flexmoe.kernels.Backend;
import flexmoe.moe.model.InferenceSession;
import flexmoe.moe.model.Parameters;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The logits of a model for given token ids, for cross-checking flexmoe against other implementations (e.g. a
 * Hugging Face FlexOlmo / OLMo-2 model loaded from the same safetensors): one sequence, positions 0..T-1, row t the
 * logits of the token after {@code ids[0..t]}; computed as the training forward computes them (a prefill of an
 * {@link InferenceSession}), written as float32 {@code [T, V]} .npy.
 */
public final class Logits {

    private Logits() {
    }

    /** {@code [T, V]} row-major for the T ids (1 <= T <= maxSeqLen, ids in the vocabulary). */
    public static float[] compute(Parameters params, Backend backend, int[] ids) {
        int maxSeq = params.config().maxSeqLen();
        if (ids.length == 0 || ids.length > maxSeq) {
            throw new IllegalArgumentException("logits: need 1 to maxSeqLen = " + maxSeq + " token ids, got "
                    + ids.length);
        }
        InferenceSession session = new InferenceSession(params, backend, 1, ids.length);
        return Arrays.copyOf(session.forward(ids, ids.length), ids.length * params.config().vocabSize());
    }

    /** {@link #compute} written to {@code file} as a float32 {@code [T, V]} .npy (atomically); returns the logits. */
    public static float[] write(Path file, Parameters params, Backend backend, int[] ids) {
        float[] logits = compute(params, backend, ids);
        Npy.write(file, logits, ids.length, params.config().vocabSize());
        return logits;
    }
}
