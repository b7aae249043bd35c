#!/usr/bin/env python3
"""numpy/OpenBLAS peer for GemmBenchmark: the same fp32 products, 1 and 2 threads, GFLOP/s as CSV.

Shapes are "tokens x in x out" of a linear layer's forward product and map onto (m, n, k) per layout
exactly as GemmBenchmark.setUp does:
  NT  Y[t,out]   = X[t,in] W[out,in]^T   -> m=tokens, k=in,     n=out
  NN  dX[t,in]   = dY[t,out] W[out,in]   -> m=tokens, k=out,    n=in
  TN  dW[out,in] = dY[t,out]^T X[t,in]   -> m=out,    k=tokens, n=in
Each thread count runs in its own subprocess with OPENBLAS_NUM_THREADS set before numpy is imported
(threadpoolctl is used as well when it is importable). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
removed from the workers' environment (they can force a slower kernel on a current numpy); pass
--keep-openblas-env to keep them. The kernel/config OpenBLAS reports is printed as '# ' lines.

With --expert it runs ExpertBenchmark's computation instead: one SwiGLU expert forward and backward
(tokens x dim, hidden; W1|W3 stacked as one [2F, D] matrix), printing the median milliseconds per step.

Usage: python3 peer_numpy.py [--shapes 4096x256x1024,...] [--layouts NT,NN,TN] [--threads 1,2]
                             [--reps 10] [--min-time 1.0] [--expert 4096x256x1024]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SHAPES = ["4096x256x1024", "4096x1024x256", "4096x512x2048"]
LAYOUTS = ["NT", "NN", "TN"]
DROPPED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def dims(shape, layout):
    tokens, d_in, d_out = (int(x) for x in shape.split("x"))
    if layout == "NT":
        return tokens, d_out, d_in          # m, n, k
    if layout == "NN":
        return tokens, d_in, d_out
    if layout == "TN":
        return d_out, d_in, tokens
    raise ValueError(layout)


def openblas_info():
    """What OpenBLAS says about itself: threadpoolctl if present, else its own C entry points."""
    try:
        import threadpoolctl
        return [{k: v for k, v in info.items() if k in ("internal_api", "version", "architecture",
                                                         "threading_layer", "num_threads", "filepath")}
                for info in threadpoolctl.threadpool_info() if info.get("internal_api") == "openblas"]
    except ImportError:
        pass
    import ctypes
    found = []
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    for path in libs:
        lib = ctypes.CDLL(path)
        info = {"filepath": path}
        for key, names in (("config", ("openblas_get_config64_", "scipy_openblas_get_config64_",
                                       "openblas_get_config")),
                           ("architecture", ("openblas_get_corename64_", "scipy_openblas_get_corename64_",
                                             "openblas_get_corename")),
                           ("num_threads", ("openblas_get_num_threads64_", "scipy_openblas_get_num_threads64_",
                                            "openblas_get_num_threads"))):
            for name in names:
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p if key != "num_threads" else ctypes.c_int
                    value = fn()
                    info[key] = value.decode() if isinstance(value, bytes) else value
                    break
        found.append(info)
    return found


def expert_step(np, x, w13, w2, dy, dw13, dw2, f):
    """Forward and backward of one SwiGLU expert, the same products and order as ExpertBenchmark."""
    gu = x @ w13.T                              # [T, 2F] = [x W1^T | x W3^T]
    a, u = gu[:, :f], gu[:, f:]
    sig = 1.0 / (1.0 + np.exp(-a))
    s = a * sig                                 # silu(a)
    h = s * u
    y = h @ w2.T                                # [T, D]
    dh = dy @ w2                                # [T, F]
    dw2 += dy.T @ h
    dgu = np.empty_like(gu)
    dgu[:, :f] = dh * u * (sig * (1.0 + a * (1.0 - sig)))
    dgu[:, f:] = dh * s
    dx = dgu @ w13                              # [T, D]
    dw13 += dgu.T @ x
    return y, dx


def expert_worker(args, np):
    t, d, f = (int(v) for v in args.expert.split("x"))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (t, d)).astype(np.float32)
    w13 = (rng.uniform(-1, 1, (2 * f, d)) / np.sqrt(d)).astype(np.float32)
    w2 = (rng.uniform(-1, 1, (d, f)) / np.sqrt(f)).astype(np.float32)
    dy = rng.uniform(-1, 1, (t, d)).astype(np.float32)
    dw13 = np.zeros_like(w13)
    dw2 = np.zeros_like(w2)
    for _ in range(3):
        expert_step(np, x, w13, w2, dy, dw13, dw2, f)
    times = []
    start = time.perf_counter()
    while len(times) < args.reps or time.perf_counter() - start < args.min_time:
        t0 = time.perf_counter()
        expert_step(np, x, w13, w2, dy, dw13, dw2, f)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print("expert,%s,%d,%.3f,%.1f" % (args.expert, args.threads, med * 1e3, 18.0 * t * d * f / med / 1e9),
          flush=True)


def worker(args):
    import numpy as np
    limiter = None
    try:
        import threadpoolctl
        limiter = threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:
        pass
    print("# threads=%d numpy %s, OpenBLAS: %s" % (args.threads, np.__version__, json.dumps(openblas_info())),
          flush=True)
    if args.expert:
        expert_worker(args, np)
        return
    rng = np.random.default_rng(1)
    for shape in args.shapes.split(","):
        for layout in args.layouts.split(","):
            m, n, k = dims(shape, layout)
            # Operands stored as the Java benchmark stores them (row-major), transposed views where the
            # layout says so: BLAS reads them in place, as our kernel does.
            if layout == "NT":
                a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
                b = rng.uniform(-1, 1, (n, k)).astype(np.float32).T
            elif layout == "NN":
                a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
                b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
            else:
                a = rng.uniform(-1, 1, (k, m)).astype(np.float32).T
                b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
            c = np.empty((m, n), dtype=np.float32)
            for _ in range(3):
                np.matmul(a, b, out=c)
            times = []
            start = time.perf_counter()
            while len(times) < args.reps or time.perf_counter() - start < args.min_time:
                t0 = time.perf_counter()
                np.matmul(a, b, out=c)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            print("%s,%s,%d,%d,%d,%d,%.4f,%.1f" % (shape, layout, args.threads, m, n, k, med * 1e3,
                                                   2.0 * m * n * k / med / 1e9), flush=True)
    if limiter is not None:
        limiter.restore_original_limits()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--threads", default="1,2", help="comma list (parent) or one count (worker)")
    parser.add_argument("--reps", type=int, default=10, help="timed runs per product, at least")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per product, at least")
    parser.add_argument("--keep-openblas-env", action="store_true")
    parser.add_argument("--expert", default="", help="TOKENSxDIMxHIDDEN: time the SwiGLU expert step instead")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.threads = int(args.threads)
        worker(args)
        return
    for name in DROPPED_ENV:
        if name in os.environ:
            print("# %s=%s in the environment: %s for the peer run" % (
                name, os.environ[name], "kept" if args.keep_openblas_env else "removed"), flush=True)
    print("what,shape,threads,median_ms,gflops" if args.expert else "shape,layout,threads,m,n,k,median_ms,gflops",
          flush=True)
    for threads in (int(t) for t in args.threads.split(",")):
        env = dict(os.environ)
        if not args.keep_openblas_env:
            for name in DROPPED_ENV:
                env.pop(name, None)
        env["OPENBLAS_NUM_THREADS"] = str(threads)
        env["OMP_NUM_THREADS"] = str(threads)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", str(threads),
               "--shapes", args.shapes, "--layouts", args.layouts, "--reps", str(args.reps),
               "--min-time", str(args.min_time), "--expert", args.expert]
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
