package flexmoe.kernels.jvm;

import flexmoe.kernels.GemmKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-blocked fp32 GEMM on the Vector API, for all three layouts; JVM-only, tested against
 * {@link GemmKernels} and a float64 reference.
 *
 * <p>Why this structure (GotoBLAS/BLIS loop order; reference/PERF.md): the micro-kernel keeps an
 * {@code MR x NR} = 8 x 2-vector block of C in 16 vector registers and, per k step, loads 2 vectors of B,
 * broadcasts 8 values of A and issues 16 FMAs, so it is bound by the FMA units rather than by loads (8x2
 * beat 12x2, 6x3, 6x4, 14x2, 4x4 and 4x2). To feed it from cache, B is copied ("packed") per K block into
 * NR-wide strips, one contiguous {@code KC x NR} micro-panel per strip that stays in L1 while the MR-row
 * strips of a packed {@code MC x KC} block of A stream past it from L2. Packing also absorbs the layouts:
 * A·Bᵀ only packs B from rows and Aᵀ·B only packs A from columns, and it zero-pads the edges, so two
 * micro-kernels (A packed row by row, or interleaved MR values per k step) serve every shape. The register
 * budget assumes 512-bit vectors (16 accumulators + 3 of 32 registers); with 256-bit AVX2 the same code is
 * correct but spills.
 *
 * <p>Threads, A·B and A·Bᵀ. C is processed in column blocks of NC and, within one, in phases of a few K
 * blocks. The threads pack a phase's B together into a buffer that all of them then read, so B is read
 * from memory once whatever the row split; each chunk packs the rows of A it needs inside its own work
 * item. With several threads and phases, packing the next phase is interleaved with computing this one:
 * packing is memory-bound and computing FMA-bound, so one thread's packing overlaps another's arithmetic.
 *
 * <p>Threads, Aᵀ·B (weight gradients: K = tokens is long and C small, so each element of C takes many K
 * blocks). Shared packing through phases, as above, scaled only 1.35-1.7x on two threads: every phase is a
 * hand-off, and the two vCPUs of these machines are at times placed far apart (a cache-line round trip of
 * ~400 ns instead of ~50 ns), when reading what the other thread packed costs as much as reading memory.
 * So C is cut instead into at most {@link #TN_BANDS} bands along its longer side, and one work item
 * computes a whole band over all of K, packing its own Aᵀ and B: nothing is handed over between threads,
 * and only the operand common to both bands (B when cut by rows, Aᵀ when cut by columns) is packed twice
 * (1.75-1.95x on two threads, measured in both placements). One thread gets the whole range of bands from
 * the runner and computes it as a single band, so it packs nothing twice. Aᵀ is packed for up to
 * TN_A_ROWS rows of a band at once, reading whole rows of A [k,m] where it can: packing per MC rows read
 * strided pieces of rows and cost up to twice as much per float from memory (0.35-0.39 vs 0.20 ns).
 *
 * <p>Determinism, all layouts: the K blocking depends only on k, and every element of C gets, per K block
 * in order, one micro-kernel sum over that block's k steps starting from zero, added to C. Which chunk,
 * band or thread computes an element, and how the operands were packed, does not change its bits. The
 * chunks and bands are cut from (m, n, k) only, so 1 and 2 threads give identical bits.
 */
final class VectorGemm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final int L = S.length();
    /** Rows of the micro-tile. */
    static final int MR = 8;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * L;
    /** K block: a {@code KC x NR} B micro-panel (32 KiB with 512-bit vectors) must stay in L1. */
    static final int KC = 256;
    /**
     * Packed strips (and rows of packed A) start one cache line past a multiple of 4 KiB apart: stores to
     * addresses a multiple of 4 KiB away from the loads in flight falsely alias, which made packing 4x
     * slower (measured 0.34 vs 0.08 ns per float).
     */
    static final int PAD = 16;
    /** Row stride of A packed row by row (layouts that store A as [m,k]). */
    static final int ARS = KC + PAD;
    /** M block: a packed {@code MC x KC} block of A (128 KiB) stays in L2 while the B strips pass. */
    static final int MC = 128;
    /** N block: the widest packed B panel, {@code KC x NC} (1 MiB). */
    static final int NC = 1024;
    /**
     * Floats of packed operands per phase (4 MiB): larger phases mean fewer thread hand-offs, smaller ones
     * that the packed data is still in cache when used. Two are held at once when pipelined.
     */
    static final int PHASE_FLOATS = 1 << 20;
    /**
     * Aᵀ·B is cut into this many bands when it is large enough: one per core of these machines; each band
     * more would pack the operand common to the bands once more.
     */
    static final int TN_BANDS = 2;
    /** Rows of Aᵀ packed at once per K block in Aᵀ·B (1 MiB): one piece per band on the model's shapes. */
    static final int TN_A_ROWS = 1024;
    /** Floats per packing work item. */
    static final long PACK_ITEM = 1L << 15;
    /** Floats per packing chunk handed to a thread, at least (~50 us of copying, as for MIN_CHUNK_FLOP). */
    static final long PACK_CHUNK = 1L << 18;
    /** Below this many multiply-adds the plain bodies are as fast as packing. */
    static final long SMALL = 4096;
    /**
     * Chunks carry at least this many FLOP per phase (~140 us): a parallel {@code forRange} costs ~45 us
     * of wake-up latency on these machines (measured: two 50 us chunks on two threads take 100 us), so a
     * 256x256x256 product is not split at all.
     */
    static final long MIN_CHUNK_FLOP = 1L << 25;
    /** Cut each phase into at most this many chunks, so two or more threads balance. */
    static final int TARGET_CHUNKS = 8;
    /**
     * A·B (B stored [k,n]) with at most this many rows skips packing (decoding: one token per sequence), where
     * packing B would copy as many floats as the product has multiply-adds: see {@link #fewRows}.
     */
    static final int FEW_ROWS = 4;
    /** Multiply-adds per chunk of {@link #fewRows}: it streams B from memory, slower than the packed kernel. */
    static final long FEW_ROWS_CHUNK = 1L << 19;

    private final ParallelRunner runner;
    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);

    VectorGemm(ParallelRunner runner) {
        this.runner = runner;
    }

    /**
     * One thread's buffers: its private packed A block, the packed phases of the calls it makes, and the
     * Aᵀ and B it packs for its bands of Aᵀ·B.
     */
    private static final class Buffers {
        final float[] a = new float[MC * ARS];
        final float[] tile = new float[MR * NR];
        private float[] shared = new float[0];
        private float[] bandA = new float[0];
        private float[] bandB = new float[0];

        float[] shared(int size) {
            if (shared.length < size) {
                shared = new float[size];
            }
            return shared;
        }

        float[] bandA(int size) {
            if (bandA.length < size) {
                bandA = new float[size];
            }
            return bandA;
        }

        float[] bandB(int size) {
            if (bandB.length < size) {
                bandB = new float[size];
            }
            return bandB;
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
        if (transA) {
            gemmTN(a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
            return;
        }
        if (m <= FEW_ROWS && !transB) {
            fewRows(a, aOff, b, bOff, c, cOff, m, n, k, accumulate);
            return;
        }
        Buffers own = buffers.get();
        for (int j0 = 0; j0 < n; j0 += NC) {
            ColumnBlock block = new ColumnBlock(transB, a, aOff, b, bOff, c, cOff, m, n, k, accumulate,
                    j0, Math.min(NC, n - j0));
            block.run(own.shared(block.sharedSize()));
        }
    }

    /**
     * {@code C[m,n] (+)= A B} for a few rows of A, B stored [k,n], without packing: lanes run along the columns
     * of C and read B's rows directly. Each element gets exactly the packed path's arithmetic (per K block, in
     * order, an fma chain from zero over the block's k steps, then added to C), so a decoded token keeps the
     * bits of its row in a full forward; the last partial group of columns runs the same chain in scalar code.
     * Parallel over groups of columns (each element in one chunk). (For A·Bᵀ the lanes would need a gather
     * down B's rows: measured no faster than packing, so A·Bᵀ always packs.)
     */
    private void fewRows(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate) {
        int kBlocks = ceilDiv(k, KC);
        int kcStd = ceilDiv(k, kBlocks);
        int groups = ceilDiv(n, L);
        runner.forRange(groups, ParallelRunner.grainFor((long) m * L * k, FEW_ROWS_CHUNK), (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                int j0 = g * L;
                for (int i = 0; i < m; i++) {
                    int ai = aOff + i * k;
                    int ci = cOff + i * n;
                    if (j0 + L <= n) {
                        for (int p0 = 0; p0 < k; p0 += kcStd) {
                            int pEnd = Math.min(k, p0 + kcStd);
                            FloatVector acc = FloatVector.zero(S);
                            for (int p = p0; p < pEnd; p++) {
                                acc = FloatVector.broadcast(S, a[ai + p])
                                        .fma(FloatVector.fromArray(S, b, bOff + p * n + j0), acc);
                            }
                            if (accumulate || p0 > 0) {
                                acc = acc.add(FloatVector.fromArray(S, c, ci + j0));
                            }
                            acc.intoArray(c, ci + j0);
                        }
                    } else {
                        for (int j = j0; j < n; j++) {
                            for (int p0 = 0; p0 < k; p0 += kcStd) {
                                int pEnd = Math.min(k, p0 + kcStd);
                                float acc = 0f;
                                for (int p = p0; p < pEnd; p++) {
                                    acc = Math.fma(a[ai + p], b[bOff + p * n + j], acc);
                                }
                                c[ci + j] = accumulate || p0 > 0 ? acc + c[ci + j] : acc;
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Band size {@code {rows, cols}} of Aᵀ·B, from the shape only (never the thread count): TN_BANDS bands
     * along the longer side of C when each gets at least MIN_CHUNK_FLOP, else one band.
     */
    static int[] bandsTN(int m, int n, int k) {
        long flop = 2L * m * n * k;
        int bands = (int) Math.max(1, Math.min(TN_BANDS, flop / MIN_CHUNK_FLOP));
        if (m > n) {
            return new int[] {roundUp(ceilDiv(m, bands), MR), n};
        }
        return new int[] {m, roundUp(ceilDiv(n, bands), NR)};
    }

    /** {@code C[m,n] (+)= Aᵀ B}, A stored [k,m], B [k,n]: bands of C, each over all of K (class comment). */
    private void gemmTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                        boolean accumulate) {
        int[] band = bandsTN(m, n, k);
        int rows = band[0];
        int cols = band[1];
        boolean byRows = rows < m;
        int bands = byRows ? ceilDiv(m, rows) : ceilDiv(n, cols);
        // A range of bands (all of them with one thread) is one rectangle of C, computed as one band.
        runner.forRange(bands, 1, (t0, t1) -> {
            if (byRows) {
                band(a, aOff, b, bOff, c, cOff, m, n, k, accumulate, t0 * rows, Math.min(m, t1 * rows), 0, n);
            } else {
                band(a, aOff, b, bOff, c, cOff, m, n, k, accumulate, 0, m, t0 * cols, Math.min(n, t1 * cols));
            }
        });
    }

    /**
     * Rows [i0,i1) x columns [j0,j1) of C (+)= Aᵀ B over all of K, on the calling thread with its own packed
     * operands. GotoBLAS order per K block: pieces of up to TN_A_ROWS rows of Aᵀ (packed once per K block
     * when the band has a single piece), column blocks of NC of B, MC-row blocks of the Aᵀ piece.
     */
    private void band(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                      boolean accumulate, int i0, int i1, int j0, int j1) {
        Buffers buf = buffers.get();
        int kBlocks = ceilDiv(k, KC);
        int kcStd = ceilDiv(k, kBlocks);
        int piece = Math.min(TN_A_ROWS, roundUp(i1 - i0, MR));
        boolean onePiece = piece >= i1 - i0;
        float[] pa = buf.bandA(piece / MR * (MR * kcStd + PAD));
        float[] pb = buf.bandB(ceilDiv(Math.min(NC, j1 - j0), NR) * (NR * kcStd + PAD));
        for (int p0 = 0; p0 < k; p0 += kcStd) {
            int kc = Math.min(kcStd, k - p0);
            // Non-accumulating products must never read C: the first K block overwrites it.
            boolean load = accumulate || p0 > 0;
            if (onePiece) {
                packACols(a, aOff, m, p0, kc, i0, i1 - i0, pa, 0);
            }
            for (int jc = j0; jc < j1; jc += NC) {
                int ncb = Math.min(NC, j1 - jc);
                packBCols(b, bOff, n, p0, kc, 0, kc, jc, ncb, pb, 0);
                for (int ia = i0; ia < i1; ia += piece) {
                    int ma = Math.min(piece, i1 - ia);
                    if (!onePiece) {
                        packACols(a, aOff, m, p0, kc, ia, ma, pa, 0);
                    }
                    for (int ic = ia; ic < ia + ma; ic += MC) {
                        macro(kc, Math.min(MC, ia + ma - ic), ncb, pa, (ic - ia) / MR * (MR * kc + PAD), false,
                                pb, 0, c, cOff + ic * n + jc, n, load, buf.tile);
                    }
                }
            }
        }
    }

    /**
     * Chunk sizes {@code {rows, cols}} within a phase of {@code nc} columns and {@code kc} total depth, from
     * the shape only (never the thread count): up to TARGET_CHUNKS chunks of at least MIN_CHUNK_FLOP. Rows
     * are split first, down to MC (a chunk reads the shared B once per MC rows); when that leaves too few
     * chunks the columns are split too (then a chunk that packs its own A repeats it per column chunk).
     */
    static int[] chunking(int m, int nc, int kc) {
        long flop = 2L * m * nc * kc;
        int target = (int) Math.max(1, Math.min(TARGET_CHUNKS, flop / MIN_CHUNK_FLOP));
        int rows = roundUp(ceilDiv(m, target), MR);
        if (rows < MC) {
            rows = Math.min(roundUp(m, MR), MC);
        }
        int chunksM = ceilDiv(m, rows);
        int cols = roundUp(nc, NR);
        if (chunksM < target) {
            cols = Math.max(4 * NR, roundUp(ceilDiv(nc, ceilDiv(target, chunksM)), NR));
        }
        return new int[] {rows, cols};
    }

    /** Columns [j0, j0+nc) of one A·B or A·Bᵀ: its blocking, and the phases that pack and compute it. */
    private final class ColumnBlock {
        private final boolean transB;
        private final float[] a;
        private final int aOff;
        private final float[] b;
        private final int bOff;
        private final float[] c;
        private final int cOff;
        private final int m;
        private final int n;
        private final int k;
        private final boolean accumulate;
        private final int j0;
        private final int nc;
        private final int kBlocks;
        private final int kcStd;
        private final int strips;
        private final int bBlock;
        private final int blockSize;
        private final int group;
        private final int phases;
        /** Whether packing the next phase overlaps computing this one (several threads, several phases). */
        private final boolean pipeline;
        private final int stripsPerItem;
        private final int bRowsPerItem;
        private final int bItems;
        private final int packGrain;
        private final int rows;
        private final int cols;
        private final int chunksM;
        private final int chunks;
        private float[] pb;

        ColumnBlock(boolean transB, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                    int m, int n, int k, boolean accumulate, int j0, int nc) {
            this.transB = transB;
            this.a = a;
            this.aOff = aOff;
            this.b = b;
            this.bOff = bOff;
            this.c = c;
            this.cOff = cOff;
            this.m = m;
            this.n = n;
            this.k = k;
            this.accumulate = accumulate;
            this.j0 = j0;
            this.nc = nc;
            // Equal K blocks (k=300 -> 150+150, not 256+44): fewer passes over C for the same L1 footprint.
            this.kBlocks = ceilDiv(k, KC);
            this.kcStd = ceilDiv(k, kBlocks);
            this.strips = ceilDiv(nc, NR);
            this.bBlock = strips * (NR * kcStd + PAD);
            int[] chunk = chunking(m, nc, kcStd * Math.min(kBlocks, Math.max(1, PHASE_FLOATS / bBlock)));
            this.rows = chunk[0];
            this.cols = chunk[1];
            this.chunksM = ceilDiv(m, rows);
            this.chunks = chunksM * ceilDiv(nc, cols);
            // Each chunk packs its own A inside its compute item, where it overlaps the other threads' FMAs.
            this.blockSize = bBlock;
            // As few phases as PHASE_FLOATS allows, with K blocks spread evenly (16 -> 3,3,3,3,2,2).
            this.phases = ceilDiv(kBlocks, Math.max(1, Math.min(kBlocks, PHASE_FLOATS / blockSize)));
            this.group = ceilDiv(kBlocks, phases);
            this.pipeline = runner.threads() > 1 && phases > 1;
            // Packing items per K block: B by strips when stored [n,k], else by whole rows.
            this.stripsPerItem = ParallelRunner.grainFor((long) NR * kcStd, PACK_ITEM);
            this.bRowsPerItem = ParallelRunner.grainFor(nc, PACK_ITEM);
            this.bItems = transB ? ceilDiv(strips, stripsPerItem) : ceilDiv(kcStd, bRowsPerItem);
            this.packGrain = (int) Math.max(1, PACK_CHUNK * bItems / blockSize);
        }

        /** Floats of the shared buffer: one phase, or two when packing the next overlaps computing one. */
        int sharedSize() {
            return (pipeline ? 2 : 1) * group * blockSize;
        }

        void run(float[] shared) {
            pb = shared;
            for (int g = 0; g < phases; g++) {
                int phase = g;
                if (g == 0 || !pipeline) {
                    runner.forRange(packItems(g), packGrain, (t0, t1) -> {
                        for (int t = t0; t < t1; t++) {
                            pack(phase, t);
                        }
                    });
                }
                // Pipelined, compute chunks of this phase alternate with packing items of the next, so that
                // while one thread waits on memory another keeps the FMA units busy. With one thread that
                // would only evict this phase's packed data, so each phase is packed right before use.
                int nPack = pipeline && g + 1 < phases ? packItems(g + 1) : 0;
                int pairs = Math.min(chunks, nPack);
                runner.forRange(chunks + nPack, 1, (t0, t1) -> {
                    for (int t = t0; t < t1; t++) {
                        boolean computeItem = t < 2 * pairs ? t % 2 == 0 : chunks > pairs;
                        int index = t < 2 * pairs ? t / 2 : t - pairs;
                        if (computeItem) {
                            compute(phase, index);
                        } else {
                            pack(phase + 1, index);
                        }
                    }
                });
            }
        }

        /** First K block of phase g. */
        private int firstBlock(int g) {
            return (int) ((long) g * kBlocks / phases);
        }

        private int blocksIn(int g) {
            return firstBlock(g + 1) - firstBlock(g);
        }

        private int packItems(int g) {
            return blocksIn(g) * bItems;
        }

        /** Where K block {@code bi} of phase g is packed: phases alternate between the buffer's halves. */
        private int base(int g, int bi) {
            return ((pipeline ? g & 1 : 0) * group + bi) * blockSize;
        }

        private void pack(int g, int item) {
            int bi = item / bItems;
            int r = item % bItems;
            int p0 = (firstBlock(g) + bi) * kcStd;
            int kc = Math.min(kcStd, k - p0);
            int base = base(g, bi);
            if (transB) {
                for (int s = r * stripsPerItem, s1 = Math.min(strips, s + stripsPerItem); s < s1; s++) {
                    packBRows(b, bOff, k, p0, kc, j0 + s * NR, Math.min(NR, nc - s * NR), pb,
                            base + s * (NR * kc + PAD));
                }
            } else {
                int from = r * bRowsPerItem;
                packBCols(b, bOff, n, p0, kc, from, Math.min(kc, from + bRowsPerItem), j0, nc, pb, base);
            }
        }

        private void compute(int g, int ch) {
            Buffers buf = buffers.get();
            int i0 = (ch % chunksM) * rows;
            int i1 = Math.min(m, i0 + rows);
            int jr0 = (ch / chunksM) * cols;
            int ncc = Math.min(cols, nc - jr0);
            for (int bi = 0, blocks = blocksIn(g); bi < blocks; bi++) {
                int p0 = (firstBlock(g) + bi) * kcStd;
                int kc = Math.min(kcStd, k - p0);
                // Non-accumulating products must never read C: the first K block overwrites it.
                boolean load = accumulate || p0 > 0;
                int base = base(g, bi);
                int bo = base + jr0 / NR * (NR * kc + PAD);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packARows(a, aOff, k, p0, kc, ic, mc, buf.a);
                    macro(kc, mc, ncc, buf.a, 0, true, pb, bo, c, cOff + ic * n + j0 + jr0, n, load, buf.tile);
                }
            }
        }
    }

    /** All micro-tiles of one packed A block against one packed B panel. */
    private static void macro(int kc, int mc, int nc, float[] pa, int paOff, boolean rowsA, float[] pb, int pbOff,
                              float[] c, int cBase, int ldc, boolean load, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bo = pbOff + jr / NR * (NR * kc + PAD);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int ao = paOff + (rowsA ? ir * ARS : ir / MR * (MR * kc + PAD));
                int co = cBase + ir * ldc + jr;
                if (mr == MR && nr == NR) {
                    if (rowsA) {
                        kernelRows(kc, pa, ao, pb, bo, c, co, ldc, load);
                    } else {
                        kernel(kc, pa, ao, pb, bo, c, co, ldc, load);
                    }
                } else {
                    // Edge: run the same kernel on a full scratch tile, copy only the valid part.
                    if (load) {
                        java.util.Arrays.fill(tile, 0f);
                        for (int r = 0; r < mr; r++) {
                            System.arraycopy(c, co + r * ldc, tile, r * NR, nr);
                        }
                    }
                    if (rowsA) {
                        kernelRows(kc, pa, ao, pb, bo, tile, 0, NR, load);
                    } else {
                        kernel(kc, pa, ao, pb, bo, tile, 0, NR, load);
                    }
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
     * locals so C2 keeps them in registers; they start at zero and C is added once at the end, so C is
     * read only when {@code load} (and its loads do not delay the first FMAs).
     */
    private static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc,
                               boolean load) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
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
        if (load) {
            c00 = c00.add(FloatVector.fromArray(S, c, co));
            c01 = c01.add(FloatVector.fromArray(S, c, co + L));
            c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
            c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + L));
            c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
            c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
            c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(S, c, co + 4 * ldc));
            c41 = c41.add(FloatVector.fromArray(S, c, co + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(S, c, co + 5 * ldc));
            c51 = c51.add(FloatVector.fromArray(S, c, co + 5 * ldc + L));
            c60 = c60.add(FloatVector.fromArray(S, c, co + 6 * ldc));
            c61 = c61.add(FloatVector.fromArray(S, c, co + 6 * ldc + L));
            c70 = c70.add(FloatVector.fromArray(S, c, co + 7 * ldc));
            c71 = c71.add(FloatVector.fromArray(S, c, co + 7 * ldc + L));
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

    /**
     * As {@link #kernel}, with A packed row by row ({@code pa[ao + r*ARS + p]}) so that A stored [m,k] is
     * packed by plain row copies (a transposing pack cost up to 16% of the product, the copy ~1%).
     */
    private static void kernelRows(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc,
                               boolean load) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int ai = ao;
        int bi = bo;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector av = FloatVector.broadcast(S, pa[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pa[ai + 1 * ARS]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pa[ai + 2 * ARS]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pa[ai + 3 * ARS]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, pa[ai + 4 * ARS]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, pa[ai + 5 * ARS]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, pa[ai + 6 * ARS]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, pa[ai + 7 * ARS]);
            c70 = av.fma(b0, c70);
            c71 = av.fma(b1, c71);
            ai++;
            bi += NR;
        }
        if (load) {
            c00 = c00.add(FloatVector.fromArray(S, c, co));
            c01 = c01.add(FloatVector.fromArray(S, c, co + L));
            c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
            c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + L));
            c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
            c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
            c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(S, c, co + 4 * ldc));
            c41 = c41.add(FloatVector.fromArray(S, c, co + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(S, c, co + 5 * ldc));
            c51 = c51.add(FloatVector.fromArray(S, c, co + 5 * ldc + L));
            c60 = c60.add(FloatVector.fromArray(S, c, co + 6 * ldc));
            c61 = c61.add(FloatVector.fromArray(S, c, co + 6 * ldc + L));
            c70 = c70.add(FloatVector.fromArray(S, c, co + 7 * ldc));
            c71 = c71.add(FloatVector.fromArray(S, c, co + 7 * ldc + L));
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

    /** A stored [m,k] (lda = k), row by row: row ic+i, columns p0.., at {@code dst[i*ARS]}, rows past mc zero. */
    private static void packARows(float[] a, int aOff, int lda, int p0, int kc, int ic, int mc, float[] dst) {
        for (int i = 0; i < mc; i++) {
            System.arraycopy(a, aOff + (ic + i) * lda + p0, dst, i * ARS, kc);
        }
        for (int i = mc, end = roundUp(mc, MR); i < end; i++) {
            java.util.Arrays.fill(dst, i * ARS, i * ARS + kc, 0f);
        }
    }

    /**
     * A stored [k,m] (lda = m), rows p0..p0+kc, columns ic..ic+mc: each k step of a strip is MR contiguous
     * floats, strip s at {@code dst[d + s*(MR*kc+PAD)]}. Row by row of A (p outer), so the reads are
     * sequential rather than one short piece per row of A at a large stride, and four rows at a time: when
     * mc is only part of a row, that keeps enough reads in flight (measured from memory: 0.29 -> 0.19 ns per
     * float for half rows of 1024, unchanged for whole rows).
     */
    private static void packACols(float[] a, int aOff, int lda, int p0, int kc, int ic, int mc, float[] dst,
                                  int d) {
        int sas = MR * kc + PAD;
        int full = mc / MR * MR;
        int p = 0;
        for (; p + 4 <= kc; p += 4) {
            int src = aOff + (p0 + p) * lda + ic;
            for (int ir = 0, o = d + p * MR; ir < full; ir += MR, o += sas) {
                FloatVector.fromArray(S8, a, src + ir).intoArray(dst, o);
                FloatVector.fromArray(S8, a, src + lda + ir).intoArray(dst, o + MR);
                FloatVector.fromArray(S8, a, src + 2 * lda + ir).intoArray(dst, o + 2 * MR);
                FloatVector.fromArray(S8, a, src + 3 * lda + ir).intoArray(dst, o + 3 * MR);
            }
        }
        for (; p < kc; p++) {
            int src = aOff + (p0 + p) * lda + ic;
            for (int ir = 0, o = d + p * MR; ir < full; ir += MR, o += sas) {
                FloatVector.fromArray(S8, a, src + ir).intoArray(dst, o);
            }
        }
        if (full < mc) {
            for (int q = 0, o = d + full / MR * sas; q < kc; q++, o += MR) {
                int src = aOff + (p0 + q) * lda + ic + full;
                for (int r = 0; r < MR; r++) {
                    dst[o + r] = full + r < mc ? a[src + r] : 0f;
                }
            }
        }
    }

    /**
     * B stored [k,n] (ldb = n), rows p0+pFrom..p0+pTo of the K block, columns j0..j0+nc: each k step of a
     * strip is NR contiguous floats, strip s at {@code dst[d + s*(NR*kc+PAD)]}; row by row of B (p outer).
     */
    private static void packBCols(float[] b, int bOff, int ldb, int p0, int kc, int pFrom, int pTo, int j0, int nc,
                                  float[] dst, int d) {
        int sbs = NR * kc + PAD;
        int full = nc / NR * NR;
        for (int p = pFrom; p < pTo; p++) {
            int src = bOff + (p0 + p) * ldb + j0;
            for (int j = 0, o = d + p * NR; j < full; j += NR, o += sbs) {
                FloatVector.fromArray(S, b, src + j).intoArray(dst, o);
                FloatVector.fromArray(S, b, src + j + L).intoArray(dst, o + L);
            }
            if (full < nc) {
                int o = d + full / NR * sbs + p * NR;
                for (int j = 0; j < NR; j++) {
                    dst[o + j] = full + j < nc ? b[src + full + j] : 0f;
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
