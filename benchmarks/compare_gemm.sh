#!/usr/bin/env bash
# Our JVM GEMM (JMH GemmBenchmark) against numpy/OpenBLAS (peer_numpy.py) on the same products, in one
# session, and a table of ours/peer GFLOP/s per shape, layout and thread count.
#
# Usage: benchmarks/compare_gemm.sh [--shapes 4096x256x1024,...] [--layouts NT,NN,TN] [--threads 1,2]
#                                   [--jmh "-wi 2 -i 3 -w 1 -r 1"] [--rebuild]
# Results (JMH JSON, peer CSV, the table) go to benchmarks/target/compare-<time>/.
# Machines are shared and noisy: run it when quiet, and read ratios, not absolute numbers.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SHAPES=4096x256x1024,4096x1024x256,4096x512x2048
LAYOUTS=NT,NN,TN
THREADS=1,2
JMH_OPTS="-wi 2 -i 3 -w 1 -r 1"
REBUILD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shapes) SHAPES=$2; shift 2 ;;
    --layouts) LAYOUTS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --jmh) JMH_OPTS=$2; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

. benchmarks/common.sh

# One fork per parameter combination (JMH's -f 1); a few short iterations keep the whole run within minutes.
# shellcheck disable=SC2086
"$JAVA" --add-modules jdk.incubator.vector -jar "$JAR" GemmBenchmark \
    -p shape="$SHAPES" -p layout="$LAYOUTS" -p threads="$THREADS" \
    $JMH_OPTS -f 1 -rf json -rff "$OUT/jmh.json" 2>&1 | grep -v '^WARNING' | tee "$OUT/jmh.log" \
    | grep -E '^(# Run progress|Benchmark|GemmBenchmark)' || true
if [[ ! -s "$OUT/jmh.json" ]]; then
  echo "JMH produced no results; see $OUT/jmh.log" >&2
  exit 1
fi

# The peer runs without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they can force a slower kernel), in this
# command only; peer_numpy.py prints which kernel OpenBLAS chose.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/peer_numpy.py \
    --shapes "$SHAPES" --layouts "$LAYOUTS" --threads "$THREADS" | tee "$OUT/peer.csv"

echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (this run alone adds about 1.5; well above 2 on $(nproc) cores means other work disturbed it)"

python3 - "$OUT/jmh.json" "$OUT/peer.csv" <<'EOF' | tee "$OUT/table.txt"
import csv, json, statistics, sys

def dims(shape, layout):
    t, i, o = (int(x) for x in shape.split("x"))
    return {"NT": (t, o, i), "NN": (t, i, o), "TN": (o, i, t)}[layout]

ours = {}
for r in json.load(open(sys.argv[1])):
    p = r["params"]
    raw = [x for fork in r["primaryMetric"]["rawData"] for x in fork]
    ms = statistics.median(raw)   # ms/op
    m, n, k = dims(p["shape"], p["layout"])
    ours[(p["shape"], p["layout"], int(p["threads"]))] = 2.0 * m * n * k / (ms * 1e-3) / 1e9
peer = {}
for row in csv.DictReader(line for line in open(sys.argv[2]) if not line.startswith("#")):
    peer[(row["shape"], row["layout"], int(row["threads"]))] = float(row["gflops"])

print()
print("GFLOP/s (median of iterations); shape = tokens x in x out; ratio = ours / numpy-OpenBLAS")
print("%-14s %-6s %7s %10s %10s %7s" % ("shape", "layout", "threads", "ours", "peer", "ratio"))
for key in sorted(ours, key=lambda k: (k[0], ["NT", "NN", "TN"].index(k[1]), k[2])):
    o, pe = ours[key], peer.get(key)
    print("%-14s %-6s %7d %10.1f %10s %7s" % (key[0], key[1], key[2], o,
          "%.1f" % pe if pe else "-", "%.2f" % (o / pe) if pe else "-"))
for t in sorted({k[2] for k in ours}):
    rs = [ours[k] / peer[k] for k in ours if k[2] == t and k in peer]
    if rs:
        print("threads %d: geometric-mean ratio %.2f over %d products" % (t, statistics.geometric_mean(rs), len(rs)))
scal = [ours[(s, l, 2)] / ours[(s, l, 1)] for (s, l, t) in ours if t == 1 and (s, l, 2) in ours]
if scal:
    print("ours 2 threads / 1 thread: median %.2fx (min %.2fx)" % (statistics.median(scal), min(scal)))
EOF
