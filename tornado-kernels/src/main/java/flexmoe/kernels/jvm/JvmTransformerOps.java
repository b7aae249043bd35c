package flexmoe.kernels.jvm;

import flexmoe.kernels.AttentionKernels;
import flexmoe.kernels.EmbeddingKernels;
import flexmoe.kernels.ResidualKernels;
import flexmoe.kernels.RmsNormKernels;
import flexmoe.kernels.RopeKernels;
import flexmoe.kernels.SoftmaxKernels;
import flexmoe.kernels.TransformerOps;

/**
 * Transformer operations on the JVM: the plain bodies split across the worker threads, except attention
 * and the RMSNorm rows, which run the Vector API versions of their bodies ({@link JvmAttention},
 * {@link JvmElementwise}) unless the backend is the reference. Row bodies are parallel over rows;
 * the reductions over tokens (dTable, dw) are parallel over blocks of columns with the tokens looped in order
 * inside, so no two chunks write one element and the bits do not depend on the thread count.
 */
final class JvmTransformerOps implements TransformerOps {

    /** Work units (roughly multiply-adds or elements) per chunk: amortises a chunk hand-off of a few µs. */
    private static final long CHUNK_WORK = 1 << 16;

    /** Columns per block for the token reductions: a few cache lines of each row, touched once per token. */
    private static final int COLUMN_BLOCK = 64;

    /** The queries of a training call start at position 0 (the body's KV-cache offset holder). */
    private static final int[] QUERY_START_ZERO = {0};

    private final ParallelRunner runner;
    private final boolean vectorized;

    /** {@code vectorized}: attention through {@link JvmAttention}; else the plain bodies (the reference). */
    JvmTransformerOps(ParallelRunner runner, boolean vectorized) {
        this.runner = runner;
        this.vectorized = vectorized;
    }

    @Override
    public void embeddingForward(int[] ids, int idsOff, float[] table, int tableOff, float[] out, int outOff,
                                 int tokens, int vocab, int dim) {
        TransformerOps.checkEmbeddingForward(ids, idsOff, table, tableOff, out, outOff, tokens, vocab, dim);
        runner.forRange(tokens, ParallelRunner.grainFor(dim, CHUNK_WORK), (start, end) -> {
            for (int t = start; t < end; t++) {
                EmbeddingKernels.embeddingRow(t, ids, idsOff, table, tableOff, out, outOff, dim);
            }
        });
    }

    @Override
    public void embeddingBackward(int[] ids, int idsOff, float[] dOut, int dOutOff, float[] dTable, int dTableOff,
                                  int tokens, int vocab, int dim) {
        TransformerOps.checkEmbeddingBackward(ids, idsOff, dOut, dOutOff, dTable, dTableOff, tokens, vocab, dim);
        int blocks = (dim + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        runner.forRange(blocks, ParallelRunner.grainFor((long) tokens * COLUMN_BLOCK, CHUNK_WORK), (start, end) -> {
            for (int blk = start; blk < end; blk++) {
                EmbeddingKernels.embeddingBackwardColumns(blk, ids, idsOff, dOut, dOutOff, dTable, dTableOff,
                        tokens, dim, COLUMN_BLOCK);
            }
        });
    }

    @Override
    public void rmsnormForward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] rstd,
                               int rstdOff, int rows, int dim, float eps) {
        TransformerOps.checkRmsnormForward(x, xOff, w, wOff, y, yOff, rstd, rstdOff, rows, dim, eps);
        runner.forRange(rows, ParallelRunner.grainFor(2L * dim, CHUNK_WORK), (start, end) -> {
            for (int t = start; t < end; t++) {
                if (vectorized) {
                    JvmElementwise.rmsnormRow(t, x, xOff, w, wOff, y, yOff, rstd, rstdOff, dim, eps);
                } else {
                    RmsNormKernels.rmsnormRow(t, x, xOff, w, wOff, y, yOff, rstd, rstdOff, dim, eps);
                }
            }
        });
    }

    @Override
    public void rmsnormBackward(float[] x, int xOff, float[] w, int wOff, float[] rstd, int rstdOff, float[] dy,
                                int dyOff, float[] dx, int dxOff, float[] dw, int dwOff, int rows, int dim) {
        TransformerOps.checkRmsnormBackward(x, xOff, w, wOff, rstd, rstdOff, dy, dyOff, dx, dxOff, dw, dwOff,
                rows, dim);
        runner.forRange(rows, ParallelRunner.grainFor(2L * dim, CHUNK_WORK), (start, end) -> {
            for (int t = start; t < end; t++) {
                if (vectorized) {
                    JvmElementwise.rmsnormBackwardRow(t, x, xOff, w, wOff, rstd, rstdOff, dy, dyOff, dx, dxOff, dim);
                } else {
                    RmsNormKernels.rmsnormBackwardRow(t, x, xOff, w, wOff, rstd, rstdOff, dy, dyOff, dx, dxOff, dim);
                }
            }
        });
        int blocks = (dim + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        runner.forRange(blocks, ParallelRunner.grainFor((long) rows * COLUMN_BLOCK, CHUNK_WORK), (start, end) -> {
            for (int blk = start; blk < end; blk++) {
                RmsNormKernels.rmsnormWeightGradColumns(blk, x, xOff, rstd, rstdOff, dy, dyOff, dw, dwOff, rows,
                        dim, COLUMN_BLOCK);
            }
        });
    }

    @Override
    public void ropeTables(float[] cos, float[] sin, int maxPos, int headDim, float theta) {
        TransformerOps.checkRopeTables(cos, sin, maxPos, headDim, theta);
        runner.forRange(maxPos, ParallelRunner.grainFor(16L * headDim, CHUNK_WORK), (start, end) -> {
            for (int p = start; p < end; p++) {
                RopeKernels.ropeTableRow(p, cos, sin, headDim, theta);
            }
        });
    }

    @Override
    public void ropeForward(float[] x, int xOff, float[] y, int yOff, int[] pos, int posOff, float[] cos,
                            float[] sin, int tokens, int dim, int heads, int maxPos) {
        TransformerOps.checkRope("ropeForward", "x", x, xOff, "y", y, yOff, pos, posOff, cos, sin, tokens, dim,
                heads, maxPos);
        int headDim = dim / heads;
        runner.forRange(tokens, ParallelRunner.grainFor(2L * dim, CHUNK_WORK), (start, end) -> {
            for (int t = start; t < end; t++) {
                for (int h = 0; h < heads; h++) {
                    RopeKernels.ropeForwardHead(t, h, x, xOff, y, yOff, pos, posOff, cos, sin, heads, headDim);
                }
            }
        });
    }

    @Override
    public void ropeBackward(float[] dy, int dyOff, float[] dx, int dxOff, int[] pos, int posOff, float[] cos,
                             float[] sin, int tokens, int dim, int heads, int maxPos) {
        TransformerOps.checkRope("ropeBackward", "dy", dy, dyOff, "dx", dx, dxOff, pos, posOff, cos, sin, tokens,
                dim, heads, maxPos);
        int headDim = dim / heads;
        runner.forRange(tokens, ParallelRunner.grainFor(2L * dim, CHUNK_WORK), (start, end) -> {
            for (int t = start; t < end; t++) {
                for (int h = 0; h < heads; h++) {
                    RopeKernels.ropeBackwardHead(t, h, dy, dyOff, dx, dxOff, pos, posOff, cos, sin, heads, headDim);
                }
            }
        });
    }

    /*
     * Attention rows are numbered r = (b * H + h) * S + i, i fastest, so one chunk walks the queries of one
     * (sequence, head) and keeps that head's K and V slices (2 * S * hd floats) in cache. The causal triangle
     * makes rows unequal in cost; the runner hands out chunks dynamically, which evens that out.
     */

    @Override
    public void attentionForward(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out,
                                 int outOff, float[] lse, int lseOff, int batch, int seq, int dim, int heads) {
        TransformerOps.checkAttentionForward(q, qOff, k, kOff, v, vOff, out, outOff, lse, lseOff, batch, seq, dim,
                heads);
        int headDim = dim / heads;
        if (vectorized) {
            runner.forRange(batch * heads, 1, (start, end) -> {
                for (int bh = start; bh < end; bh++) {
                    JvmAttention.forwardHead(bh / heads, bh % heads, q, qOff, k, kOff, v, vOff, out, outOff, lse,
                            lseOff, seq, seq, heads, headDim, 0);
                }
            });
            return;
        }
        runner.forRange(batch * heads * seq, attentionGrain(seq, headDim), (start, end) -> {
            for (int r = start; r < end; r++) {
                int bh = r / seq;
                AttentionKernels.attentionRow(bh / heads, bh % heads, r % seq, q, qOff, k, kOff, v, vOff, out,
                        outOff, lse, lseOff, seq, seq, heads, headDim, QUERY_START_ZERO);
            }
        });
    }

    @Override
    public void attentionDecode(float[] q, int qOff, float[] kCache, int kOff, float[] vCache, int vOff,
                                float[] out, int outOff, float[] lse, int lseOff, int batch, int queries, int keys,
                                int dim, int heads, int queryStart) {
        TransformerOps.checkAttentionDecode(q, qOff, kCache, kOff, vCache, vOff, out, outOff, lse, lseOff, batch,
                queries, keys, dim, heads, queryStart);
        int headDim = dim / heads;
        if (vectorized) {
            // One (sequence, head) per task: its queries share the transposed keys.
            int grain = ParallelRunner.grainFor(4L * (queryStart + queries) * queries * headDim, CHUNK_WORK);
            runner.forRange(batch * heads, grain, (from, to) -> {
                for (int bh = from; bh < to; bh++) {
                    JvmAttention.forwardHead(bh / heads, bh % heads, q, qOff, kCache, kOff, vCache, vOff, out,
                            outOff, lse, lseOff, queries, keys, heads, headDim, queryStart);
                }
            });
            return;
        }
        int[] start = {queryStart};
        // A decode row reads queryStart + i + 1 keys: the cost of a training row at that position.
        int grain = ParallelRunner.grainFor(4L * (queryStart + queries) * headDim, CHUNK_WORK);
        runner.forRange(batch * heads * queries, grain, (from, to) -> {
            for (int r = from; r < to; r++) {
                int bh = r / queries;
                AttentionKernels.attentionRow(bh / heads, bh % heads, r % queries, q, qOff, kCache, kOff, vCache,
                        vOff, out, outOff, lse, lseOff, queries, keys, heads, headDim, start);
            }
        });
    }

    @Override
    public void attentionBackward(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out,
                                  int outOff, float[] lse, int lseOff, float[] dOut, int dOutOff, float[] delta,
                                  int deltaOff, float[] dq, int dqOff, float[] dk, int dkOff, float[] dv, int dvOff,
                                  int batch, int seq, int dim, int heads) {
        TransformerOps.checkAttentionBackward(q, qOff, k, kOff, v, vOff, out, outOff, lse, lseOff, dOut, dOutOff,
                delta, deltaOff, dq, dqOff, dk, dkOff, dv, dvOff, batch, seq, dim, heads);
        int headDim = dim / heads;
        if (vectorized) {
            runner.forRange(batch * heads, 1, (start, end) -> {
                for (int bh = start; bh < end; bh++) {
                    JvmAttention.backwardHead(bh / heads, bh % heads, q, qOff, k, kOff, v, vOff, out, outOff, lse,
                            lseOff, dOut, dOutOff, delta, deltaOff, dq, dqOff, dk, dkOff, dv, dvOff, seq, heads,
                            headDim);
                }
            });
            return;
        }
        int rows = batch * heads * seq;
        runner.forRange(rows, ParallelRunner.grainFor(headDim, CHUNK_WORK), (start, end) -> {
            for (int r = start; r < end; r++) {
                int bh = r / seq;
                AttentionKernels.attentionDeltaRow(bh / heads, bh % heads, r % seq, out, outOff, dOut, dOutOff,
                        delta, deltaOff, seq, heads, headDim);
            }
        });
        int grain = attentionGrain(seq, headDim);
        runner.forRange(rows, grain, (start, end) -> {
            for (int r = start; r < end; r++) {
                int bh = r / seq;
                AttentionKernels.attentionBackwardQueryRow(bh / heads, bh % heads, r % seq, q, qOff, k, kOff,
                        v, vOff, lse, lseOff, dOut, dOutOff, delta, deltaOff, dq, dqOff, seq, heads, headDim);
            }
        });
        runner.forRange(rows, grain, (start, end) -> {
            for (int r = start; r < end; r++) {
                int bh = r / seq;
                AttentionKernels.attentionBackwardKeyRow(bh / heads, bh % heads, r % seq, q, qOff, k, kOff, v,
                        vOff, lse, lseOff, dOut, dOutOff, delta, deltaOff, dk, dkOff, dv, dvOff, seq, heads,
                        headDim);
            }
        });
    }

    @Override
    public void softmaxForward(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        TransformerOps.checkSoftmaxForward(x, xOff, y, yOff, rows, cols);
        runner.forRange(rows, ParallelRunner.grainFor(4L * cols, CHUNK_WORK), (start, end) -> {
            for (int r = start; r < end; r++) {
                SoftmaxKernels.softmaxRow(r, x, xOff, y, yOff, cols);
            }
        });
    }

    @Override
    public void softmaxBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int rows,
                                int cols) {
        TransformerOps.checkSoftmaxBackward(y, yOff, dy, dyOff, dx, dxOff, rows, cols);
        runner.forRange(rows, ParallelRunner.grainFor(2L * cols, CHUNK_WORK), (start, end) -> {
            for (int r = start; r < end; r++) {
                SoftmaxKernels.softmaxBackwardRow(r, y, yOff, dy, dyOff, dx, dxOff, cols);
            }
        });
    }

    @Override
    public void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        TransformerOps.checkAdd(a, aOff, b, bOff, out, outOff, n);
        runner.forRange(n, (int) CHUNK_WORK, (start, end) -> {
            for (int i = start; i < end; i++) {
                ResidualKernels.add(i, a, aOff, b, bOff, out, outOff);
            }
        });
    }

    @Override
    public void scale(float[] x, int xOff, float factor, float[] out, int outOff, int n) {
        TransformerOps.checkScale(x, xOff, factor, out, outOff, n);
        float[] holder = {factor};
        runner.forRange(n, (int) CHUNK_WORK, (start, end) -> {
            for (int i = start; i < end; i++) {
                ResidualKernels.scale(i, x, xOff, holder, out, outOff);
            }
        });
    }

    /** Rows per chunk for attention: an average causal row costs about S/2 keys times 4 hd-long loops. */
    private static int attentionGrain(int seq, int headDim) {
        return ParallelRunner.grainFor(2L * seq * headDim, CHUNK_WORK);
    }
}
