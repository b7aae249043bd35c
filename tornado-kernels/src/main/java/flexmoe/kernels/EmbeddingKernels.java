package flexmoe.kernels;

/**
 * Token-embedding lookup and its gradient. Shapes (row-major): {@code ids [T]}, {@code table [V, D]},
 * {@code out [T, D]}. The ids are validated by {@link TransformerOps} before a body runs: a body cannot throw,
 * and on a device an out-of-range id would read or write someone else's memory.
 */
public final class EmbeddingKernels {

    private EmbeddingKernels() {
    }

    /**
     * {@code out[t, :] = table[ids[t], :]}; parallel over tokens t. Shapes: {@code ids [T]}, {@code table [V, D]},
     * {@code out [T, D]}; out row t OVERWRITTEN.
     */
    public static void embeddingRow(int t, int[] ids, int idsOff, float[] table, int tableOff, float[] out, int outOff,
                                    int dim) {
        int src = tableOff + ids[idsOff + t] * dim;
        int dst = outOff + t * dim;
        for (int c = 0; c < dim; c++) {
            out[dst + c] = table[src + c];
        }
    }

    /**
     * {@code dTable[ids[t], c] += dOut[t, c]} for every token t and every column c of column block {@code block}
     * ({@code [block * width, min(D, (block + 1) * width))}). Shapes: {@code ids [T]}, {@code dOut [T, D]},
     * {@code dTable [V, D]}; dTable ACCUMULATED (a parameter gradient). Rows of ids that do not occur are not
     * touched, so a TornadoVM graph must move dTable in and out (read-modify-write), never as output only.
     *
     * <p>Parallel over column blocks, not tokens: a repeated id makes a token-parallel scatter-add race. Each
     * element receives its contributions in token order, so the bits do not depend on {@code width}: width 1
     * (one column per work item, coalesced on a GPU) and the JVM's wider, cache-friendly blocks agree.
     */
    public static void embeddingBackwardColumns(int block, int[] ids, int idsOff, float[] dOut, int dOutOff,
                                                float[] dTable, int dTableOff, int tokens, int dim, int width) {
        int c0 = block * width;
        int c1 = Math.min(dim, c0 + width);
        for (int t = 0; t < tokens; t++) {
            int dst = dTableOff + ids[idsOff + t] * dim;
            int src = dOutOff + t * dim;
            for (int c = c0; c < c1; c++) {
                dTable[dst + c] = dTable[dst + c] + dOut[src + c];
            }
        }
    }
}
