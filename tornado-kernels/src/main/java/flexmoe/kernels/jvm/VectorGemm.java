package flexmoe.kernels.jvm;

import flexmoe.kernels.GemmKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-blocked fp32 GEMM on the Vector API, for all three layouts; JVM-only, tested against
 * {@link GemmKernels} and a float64 reference.
 *
 * <p>Why this structure (GotoBLAS/BLIS loop order; reference/PERF.md measured 0.77-1.00x OpenBLAS with it):
 * the micro-kernel keeps an {@code MR x NR} = 8 x 2-vector block of C in 16 vector registers and, per k
 * step, loads 2 vectors of B, broadcasts 8 values of A and issues 16 FMAs, so it is bound by the FMA units
 * rather than by loads (8x2 beat 12x2, 6x3, 6x4, 14x2, 4x4 and 4x2 there). To feed it from cache, B is
 * copied ("packed") once per K block into NR-wide strips, one contiguous {@code KC x NR} micro-panel per
 * strip that stays in L1 while every MR-row strip of the packed {@code MC x KC} A block (L2) streams past
 * it. Packing also removes the layouts' differences: A·Bᵀ only packs B from rows and Aᵀ·B only packs A
 * from columns, and it zero-pads the edges, so one micro-kernel serves every shape.
 *
 * <p>Determinism: C is cut into tiles whose size depends only on (m, n, k); a tile is computed by one
 * worker with the same K blocking whatever the thread count, so every element sees the same operations
 * in the same order and 1 and 2 threads give identical bits. Each worker packs into its own buffers
 * (allocated on first use, then reused).
 */
final class VectorGemm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final int L = S.length();
    /** Rows of the micro-tile; the packed A strip is interleaved MR values per k step. */
    static final int MR = 8;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * L;
    /** K block: a {@code KC x NR} B micro-panel (32 KiB with 512-bit vectors) must stay in L1. */
    static final int KC = Integer.getInteger("g.kc", 256);
    /** M block: the packed {@code MC x KC} A block (128 KiB) stays in L2 next to the B panel's working set. */
    static final int MC = Integer.getInteger("g.mc", 128);
    /** N block: the widest tile; the packed {@code KC x NC} B panel (1 MiB) is reused by all of a tile's rows. */
    static final int NC = Integer.getInteger("g.nc", 1024);
    /** Below this many multiply-adds the plain bodies are as fast as packing. */
    static final long SMALL = 4096;
    /** Row chunks of a panel carry at least this many FLOP (a chunk hand-off costs about a microsecond). */
    static final long MIN_CHUNK_FLOP = 1L << 21;
    /** Cut each panel's rows into at most this many chunks, so two or more threads balance. */
    static final int TARGET_CHUNKS = Integer.getInteger("g.tiles", 8);
    /** Floats per B-packing chunk. */
    static final long PACK_CHUNK = 1L << 15;

    private final ParallelRunner runner;
    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);

    VectorGemm(ParallelRunner runner) {
        this.runner = runner;
    }

    /** One thread's buffers: its private packed A block, and the B panel its own calls share with the workers. */
    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] tile = new float[MR * NR];
        private float[] panel;

        float[] panel() {
            if (panel == null) {
                panel = new float[KC * roundUp(NC, NR)];
            }
            return panel;
        }
    }

    /**
     * {@code C[m,n] (+)= op(A) op(B)}, C row-major at {@code cOff}. {@code transA}: A is stored [k,m] (else
     * [m,k]); {@code transB}: B is stored [n,k] (else [k,n]); not both. Arguments must already be validated.
     */
    void gemm(boolean transA, boolean transB, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
              int m, int n, int k, boolean accumulate) {
        if ((long) m * n * k <= SMALL) {
            plain(transA, transB, a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
            return;
        }
        // Equal K blocks (k=300 -> 150+150, not 256+44): fewer passes over C for the same L1 footprint.
        int kcStd = ceilDiv(k, ceilDiv(k, KC));
        int rows = chunkRows(m, Math.min(n, NC), kcStd);
        int chunks = ceilDiv(m, rows);
        float[] pb = buffers.get().panel();
        for (int jc = 0; jc < n; jc += NC) {
            int j0 = jc;
            int nc = Math.min(NC, n - jc);
            for (int p0 = 0; p0 < k; p0 += kcStd) {
                int k0 = p0;
                int kc = Math.min(kcStd, k - p0);
                // Non-accumulating products must never read C: the first K block overwrites it.
                boolean load = accumulate || p0 > 0;
                // The threads pack one B panel together, then all share it (read from cache, never
                // re-packed), each packing only its own rows of A.
                runner.forRange(ceilDiv(nc, NR), ParallelRunner.grainFor((long) NR * kc, PACK_CHUNK), (s0, s1) ->
                        packB(transB, b, bOff, n, k, k0, kc, j0, nc, s0, s1, pb));
                runner.forRange(chunks, 1, (c0, c1) -> {
                    Buffers buf = buffers.get();
                    for (int ic = c0 * rows, i1 = Math.min(m, c1 * rows); ic < i1; ic += MC) {
                        int mc = Math.min(MC, i1 - ic);
                        if (transA) {
                            packACols(a, aOff, m, k0, kc, ic, mc, buf.a);
                        } else {
                            packARows(a, aOff, k, k0, kc, ic, mc, buf.a);
                        }
                        macro(kc, mc, nc, buf.a, pb, c, cOff + ic * n + j0, n, load, buf.tile);
                    }
                });
            }
        }
    }

    /**
     * Rows per chunk of a {@code kc x nc} panel step, from the shape only (never the thread count): up to
     * TARGET_CHUNKS chunks of at least MIN_CHUNK_FLOP, a multiple of MR.
     */
    static int chunkRows(int m, int nc, int kc) {
        long flop = 2L * m * nc * kc;
        int target = (int) Math.max(1, Math.min(TARGET_CHUNKS, flop / MIN_CHUNK_FLOP));
        return roundUp(ceilDiv(m, target), MR);
    }

    /** All micro-tiles of one packed A block against one packed B panel. */
    private static void macro(int kc, int mc, int nc, float[] pa, float[] pb, float[] c, int cBase, int ldc,
                              boolean load, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bo = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int ao = ir * kc;
                int co = cBase + ir * ldc + jr;
                if (mr == MR && nr == NR) {
                    kernel(kc, pa, ao, pb, bo, c, co, ldc, load);
                } else {
                    // Edge: run the same kernel on a full scratch tile, copy only the valid part.
                    if (load) {
                        java.util.Arrays.fill(tile, 0f);
                        for (int r = 0; r < mr; r++) {
                            System.arraycopy(c, co + r * ldc, tile, r * NR, nr);
                        }
                    }
                    kernel(kc, pa, ao, pb, bo, tile, 0, NR, load);
                    for (int r = 0; r < mr; r++) {
                        System.arraycopy(tile, r * NR, c, co + r * ldc, nr);
                    }
                }
            }
        }
    }

    /**
     * The 8 x 2-vector micro-kernel: {@code C[8, NR] (load ? += : =) sum_p A[p][0..8) ⊗ B[p][0..NR)} with
     * A packed as {@code pa[ao + p*MR + r]} and B as {@code pb[bo + p*NR + j]}. Sixteen accumulators in
     * locals so C2 keeps them in registers.
     */
    private static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc,
                               boolean load) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (load) {
            c00 = FloatVector.fromArray(S, c, co);
            c01 = FloatVector.fromArray(S, c, co + L);
            c10 = FloatVector.fromArray(S, c, co + ldc);
            c11 = FloatVector.fromArray(S, c, co + ldc + L);
            c20 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, co + 2 * ldc + L);
            c30 = FloatVector.fromArray(S, c, co + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, co + 3 * ldc + L);
            c40 = FloatVector.fromArray(S, c, co + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, co + 4 * ldc + L);
            c50 = FloatVector.fromArray(S, c, co + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, co + 5 * ldc + L);
            c60 = FloatVector.fromArray(S, c, co + 6 * ldc);
            c61 = FloatVector.fromArray(S, c, co + 6 * ldc + L);
            c70 = FloatVector.fromArray(S, c, co + 7 * ldc);
            c71 = FloatVector.fromArray(S, c, co + 7 * ldc + L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
            c40 = z; c41 = z; c50 = z; c51 = z; c60 = z; c61 = z; c70 = z; c71 = z;
        }
        int ai = ao;
        int bi = bo;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector av = FloatVector.broadcast(S, pa[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, pa[ai + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, pa[ai + 7]);
            c70 = av.fma(b0, c70);
            c71 = av.fma(b1, c71);
            ai += MR;
            bi += NR;
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + L);
        c60.intoArray(c, co + 6 * ldc);
        c61.intoArray(c, co + 6 * ldc + L);
        c70.intoArray(c, co + 7 * ldc);
        c71.intoArray(c, co + 7 * ldc + L);
    }

    /** A stored [m,k] (lda = k): rows ic.., columns p0.. into MR-row strips, {@code dst[s*MR*kc + p*MR + r]}. */
    private static void packARows(float[] a, int aOff, int lda, int p0, int kc, int ic, int mc, float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int d = ir * kc;
            int src = aOff + (ic + ir) * lda + p0;
            if (mr == MR) {
                for (int p = 0; p < kc; p++) {
                    int dp = d + p * MR;
                    int sp = src + p;
                    dst[dp] = a[sp];
                    dst[dp + 1] = a[sp + lda];
                    dst[dp + 2] = a[sp + 2 * lda];
                    dst[dp + 3] = a[sp + 3 * lda];
                    dst[dp + 4] = a[sp + 4 * lda];
                    dst[dp + 5] = a[sp + 5 * lda];
                    dst[dp + 6] = a[sp + 6 * lda];
                    dst[dp + 7] = a[sp + 7 * lda];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < MR; r++) {
                        dst[d + p * MR + r] = r < mr ? a[src + r * lda + p] : 0f;
                    }
                }
            }
        }
    }

    /** A stored [k,m] (lda = m): each k step of a strip is MR contiguous floats. */
    private static void packACols(float[] a, int aOff, int lda, int p0, int kc, int ic, int mc, float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int d = ir * kc;
            int src = aOff + p0 * lda + ic + ir;
            if (mr == MR) {
                for (int p = 0; p < kc; p++) {
                    FloatVector.fromArray(S8, a, src + p * lda).intoArray(dst, d + p * MR);
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < MR; r++) {
                        dst[d + p * MR + r] = r < mr ? a[src + p * lda + r] : 0f;
                    }
                }
            }
        }
    }

    /** Packs strips [s0,s1) of the B panel (K from p0, columns from j0): strip s at {@code dst[s*NR*kc]}. */
    private static void packB(boolean transB, float[] b, int bOff, int n, int k, int p0, int kc, int j0, int nc,
                              int s0, int s1, float[] dst) {
        for (int s = s0; s < s1; s++) {
            int nr = Math.min(NR, nc - s * NR);
            if (transB) {
                packBRows(b, bOff, k, p0, kc, j0 + s * NR, nr, dst, s * NR * kc);
            } else {
                packBCols(b, bOff, n, p0, kc, j0 + s * NR, nr, dst, s * NR * kc);
            }
        }
    }

    /** B stored [k,n] (ldb = n): each k step of a strip is NR contiguous floats. */
    private static void packBCols(float[] b, int bOff, int ldb, int p0, int kc, int j, int nr, float[] dst,
                                  int d) {
        int src = bOff + p0 * ldb + j;
        if (nr == NR) {
            for (int p = 0; p < kc; p++) {
                int s = src + p * ldb;
                int o = d + p * NR;
                FloatVector.fromArray(S, b, s).intoArray(dst, o);
                FloatVector.fromArray(S, b, s + L).intoArray(dst, o + L);
            }
        } else {
            for (int p = 0; p < kc; p++) {
                for (int jj = 0; jj < NR; jj++) {
                    dst[d + p * NR + jj] = jj < nr ? b[src + p * ldb + jj] : 0f;
                }
            }
        }
    }

    /** B stored [n,k] (ldb = k): strip column jj is row j+jj of B. */
    private static void packBRows(float[] b, int bOff, int ldb, int p0, int kc, int j, int nr, float[] dst,
                                  int d) {
        for (int jj = 0; jj < NR; jj++) {
            if (jj < nr) {
                int src = bOff + (j + jj) * ldb + p0;
                for (int p = 0; p < kc; p++) {
                    dst[d + p * NR + jj] = b[src + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    dst[d + p * NR + jj] = 0f;
                }
            }
        }
    }

    /** Tiny products: the plain bodies, one thread. */
    private static void plain(boolean transA, boolean transB, float[] a, int aOff, float[] b, int bOff,
                              float[] c, int cOff, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                if (transA) {
                    GemmKernels.matmulTNCell(i, j, a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
                } else if (transB) {
                    GemmKernels.matmulNTCell(i, j, a, aOff, b, bOff, c, cOff, n, k, accumulate);
                } else {
                    GemmKernels.matmulCell(i, j, a, aOff, b, bOff, c, cOff, n, k, accumulate);
                }
            }
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int multiple) {
        return ceilDiv(x, multiple) * multiple;
    }
}
