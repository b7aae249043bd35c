#!/usr/bin/env bash
# One SwiGLU expert forward+backward (JMH ExpertBenchmark: 4096 tokens, d 256, hidden 1024) against the
# same computation in numpy/OpenBLAS (peer_numpy.py --expert), in one session; ratio = numpy time / ours.
#
# Usage: benchmarks/compare_expert.sh [--threads 1,2] [--jmh "-wi 3 -i 5 -w 1 -r 1"] [--rebuild]
# Results (JMH JSON, peer CSV, the table) go to benchmarks/target/compare-<time>/.
set -euo pipefail

cd "$(dirname "$0")/.."
THREADS=1,2
JMH_OPTS="-wi 3 -i 5 -w 1 -r 1"
REBUILD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --jmh) JMH_OPTS=$2; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
. benchmarks/common.sh

# shellcheck disable=SC2086
"$JAVA" --add-modules jdk.incubator.vector -jar "$JAR" ExpertBenchmark -p threads="$THREADS" \
    $JMH_OPTS -f 1 -rf json -rff "$OUT/jmh.json" 2>&1 | grep -v '^WARNING' | tee "$OUT/jmh.log" \
    | grep -E '^(Benchmark|ExpertBenchmark)' || true
if [[ ! -s "$OUT/jmh.json" ]]; then
  echo "JMH produced no results; see $OUT/jmh.log" >&2
  exit 1
fi
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/peer_numpy.py --expert 4096x256x1024 \
    --threads "$THREADS" | tee "$OUT/peer.csv"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT/jmh.json" "$OUT/peer.csv" <<'PY' | tee "$OUT/table.txt"
import csv, json, statistics, sys
ours = {int(r["params"]["threads"]): statistics.median(x for f in r["primaryMetric"]["rawData"] for x in f)
        for r in json.load(open(sys.argv[1]))}
peer = {int(row["threads"]): float(row["median_ms"])
        for row in csv.DictReader(l for l in open(sys.argv[2]) if not l.startswith("#"))}
flops = 18.0 * 4096 * 256 * 1024
print()
print("SwiGLU expert forward+backward, 4096 x 256, hidden 1024 (%.1f GFLOP): ms per step (median)" % (flops / 1e9))
print("%7s %10s %10s %14s" % ("threads", "ours", "numpy", "numpy / ours"))
for t in sorted(ours):
    print("%7d %10.1f %10s %14s" % (t, ours[t], "%.1f" % peer[t] if t in peer else "-",
          "%.2fx" % (peer[t] / ours[t]) if t in peer else "-"))
PY
