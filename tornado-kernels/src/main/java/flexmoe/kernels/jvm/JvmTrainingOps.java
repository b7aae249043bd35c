package flexmoe.kernels.jvm;

import flexmoe.kernels.AdamWKernels;
import flexmoe.kernels.CrossEntropyKernels;
import flexmoe.kernels.GradNormKernels;
import flexmoe.kernels.KernelArgs;
import flexmoe.kernels.PerExampleNormKernels;
import flexmoe.kernels.ResidualKernels;
import flexmoe.kernels.TrainingOps;

/**
 * Training ops on the JVM: the plain bodies, split across the worker threads by token row, parameter
 * range, norm chunk, row or example; cross-entropy and AdamW run the Vector API versions
 * ({@link JvmElementwise}) unless the backend is the reference. Every output element (and every partial sum) is computed inside one
 * chunk in a fixed order, and partial sums are added in index order, so the bits do not depend on the
 * thread count.
 */
final class JvmTrainingOps implements TrainingOps {

    /** Elementwise work per chunk (AdamW, scaling): large enough to amortise a task, small enough to spread. */
    private static final int ELEMENT_GRAIN = 1 << 14;

    private final ParallelRunner runner;
    private final boolean vectorized;

    /** {@code vectorized}: cross-entropy and AdamW through {@link JvmElementwise}; else the plain bodies. */
    JvmTrainingOps(ParallelRunner runner, boolean vectorized) {
        this.runner = runner;
        this.vectorized = vectorized;
    }

    @Override
    public void crossEntropyForward(float[] logits, int[] targets, int tokens, int vocab, float zLossWeight,
                                    float[] loss, float[] lse) {
        String op = "crossEntropyForward";
        TrainingOps.checkCrossEntropy(op, logits, targets, tokens, vocab, zLossWeight);
        KernelArgs.length(op, "loss", loss, tokens);
        KernelArgs.length(op, "lse", lse, tokens);
        runner.forRange(tokens, ParallelRunner.grainFor(vocab, 1 << 16), (start, end) -> {
            for (int t = start; t < end; t++) {
                if (vectorized) {
                    JvmElementwise.crossEntropyForwardRow(t, logits, targets, vocab, zLossWeight, loss, lse);
                } else {
                    CrossEntropyKernels.forwardRow(t, logits, targets, vocab, zLossWeight, loss, lse);
                }
            }
        });
    }

    @Override
    public double meanLoss(float[] loss, int[] targets, int tokens) {
        String op = "meanLoss";
        KernelArgs.nonNegative(op, "tokens", tokens);
        KernelArgs.length(op, "loss", loss, tokens);
        KernelArgs.length(op, "targets", targets, tokens);
        // Double: thousands of per-token losses of similar size; the host reduction costs nothing.
        double sum = 0;
        int valid = 0;
        for (int t = 0; t < tokens; t++) {
            if (targets[t] != CrossEntropyKernels.IGNORE) {
                sum += loss[t];
                valid++;
            }
        }
        return valid == 0 ? 0 : sum / valid;
    }

    @Override
    public void crossEntropyBackward(float[] logits, int[] targets, float[] lse, int tokens, int vocab,
                                     float zLossWeight, float[] scale, float[] dlogits) {
        String op = "crossEntropyBackward";
        TrainingOps.checkCrossEntropy(op, logits, targets, tokens, vocab, zLossWeight);
        KernelArgs.length(op, "lse", lse, tokens);
        KernelArgs.length(op, "scale", scale, 1);
        KernelArgs.length(op, "dlogits", dlogits, KernelArgs.size(op, tokens, vocab));
        runner.forRange(tokens, ParallelRunner.grainFor(vocab, 1 << 16), (start, end) -> {
            for (int t = start; t < end; t++) {
                if (vectorized) {
                    JvmElementwise.crossEntropyBackwardRow(t, logits, targets, lse, vocab, zLossWeight, scale, dlogits);
                } else {
                    CrossEntropyKernels.backwardRow(t, logits, targets, lse, vocab, zLossWeight, scale, dlogits);
                }
            }
        });
    }

    @Override
    public void adamwStep(float[] param, float[] grad, float[] m, float[] v, int off, int n, float[] hyper) {
        TrainingOps.checkAdamw(param, grad, m, v, off, n, hyper);
        runner.forRange(n, ELEMENT_GRAIN, (start, end) -> {
            if (vectorized) {
                JvmElementwise.adamw(start, end, param, grad, m, v, off, hyper);
            } else {
                for (int i = start; i < end; i++) {
                    AdamWKernels.step(i, param, grad, m, v, off, hyper);
                }
            }
        });
    }

    @Override
    public double sumSquares(float[] x, int off, int n) {
        String op = "sumSquares";
        KernelArgs.nonNegative(op, "n", n);
        KernelArgs.length(op, "x", x, off, n);
        return sumSquaresUnchecked(x, off, n);
    }

    @Override
    public double globalNorm(float[][] grads) {
        TrainingOps.checkGrads("globalNorm", grads);
        return Math.sqrt(totalSquares(grads));
    }

    @Override
    public void scale(float[] x, int off, int n, float[] factor) {
        String op = "scale";
        KernelArgs.nonNegative(op, "n", n);
        KernelArgs.length(op, "x", x, off, n);
        KernelArgs.length(op, "factor", factor, 1);
        scaleUnchecked(x, off, n, factor);
    }

    @Override
    public double clipGradNorm(float[][] grads, double maxNorm) {
        String op = "clipGradNorm";
        TrainingOps.checkGrads(op, grads);
        KernelArgs.require(maxNorm > 0 && Double.isFinite(maxNorm), op,
                "maxNorm must be finite and positive, got " + maxNorm);
        double norm = Math.sqrt(totalSquares(grads));
        float[] factor = {TrainingOps.clipFactor(norm, maxNorm)};
        if (factor[0] != 1f) {
            for (float[] x : grads) {
                scaleUnchecked(x, 0, x.length, factor);
            }
        }
        return norm;
    }

    @Override
    public void ghostNorm2(float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout, int[] seg,
                           int examples, float[] norm2, boolean accumulate, float[] scratch) {
        TrainingOps.checkPerExampleNorm("ghostNorm2", a, aOff, g, gOff, rows, din, dout, seg, examples, norm2,
                scratch, TrainingOps.ghostScratchSize(rows));
        // Row s costs about (its position in the example) * (din + dout); use the mean example length.
        long meanT = Math.max(1, rows / Math.max(1, examples));
        runner.forRange(rows, ParallelRunner.grainFor(meanT * (din + dout), 1 << 16), (start, end) -> {
            for (int s = start; s < end; s++) {
                PerExampleNormKernels.ghostRow(s, a, aOff, g, gOff, seg, examples, din, dout, scratch);
            }
        });
        runner.forRange(examples, ParallelRunner.grainFor(meanT, 1 << 16), (start, end) -> {
            for (int i = start; i < end; i++) {
                PerExampleNormKernels.segmentSum(i, scratch, seg, norm2, accumulate);
            }
        });
    }

    @Override
    public void directNorm2(float[] a, int aOff, float[] g, int gOff, int rows, int din, int dout, int[] seg,
                            int examples, float[] norm2, boolean accumulate, float[] scratch) {
        TrainingOps.checkPerExampleNorm("directNorm2", a, aOff, g, gOff, rows, din, dout, seg, examples, norm2,
                scratch, TrainingOps.directScratchSize(examples, din, dout));
        if (examples == 0) {
            return;
        }
        long rowWork = (long) Math.max(rows, examples) * din;
        runner.forRange(dout, ParallelRunner.grainFor(rowWork, 1 << 16), (start, end) -> {
            for (int o = start; o < end; o++) {
                PerExampleNormKernels.directRow(o, a, aOff, g, gOff, seg, examples, din, dout, scratch);
            }
        });
        runner.forRange(examples, ParallelRunner.grainFor(dout, 1 << 16), (start, end) -> {
            for (int i = start; i < end; i++) {
                PerExampleNormKernels.directReduce(i, scratch, din, dout, norm2, accumulate);
            }
        });
    }

    private double totalSquares(float[][] grads) {
        double total = 0;
        for (float[] x : grads) {
            total += sumSquaresUnchecked(x, 0, x.length);
        }
        return total;
    }

    private double sumSquaresUnchecked(float[] x, int off, int n) {
        int chunks = GradNormKernels.chunks(n);
        float[] partial = new float[chunks];
        runner.forRange(chunks, ParallelRunner.grainFor(GradNormKernels.CHUNK, 1 << 16), (start, end) -> {
            for (int c = start; c < end; c++) {
                GradNormKernels.sumSquaresChunk(c, x, off, n, partial);
            }
        });
        // Double across chunks: up to millions of parameters; bits fixed by the index order.
        double sum = 0;
        for (float p : partial) {
            sum += p;
        }
        return sum;
    }

    private void scaleUnchecked(float[] x, int off, int n, float[] factor) {
        runner.forRange(n, ELEMENT_GRAIN, (start, end) -> {
            for (int i = start; i < end; i++) {
                ResidualKernels.scale(i, x, off, factor, x, off);
            }
        });
    }
}
