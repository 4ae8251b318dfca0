#!/usr/bin/env bash
# Same-run comparison of joulebench's load generator with MLPerf LoadGen's null-SUT
# benchmark (loadgen/benchmark/repro.cpp), server scenario, p99 <= 10 ms, both with an
# inline-completing SUT. LoadGen is NOT part of this repository: build it elsewhere and pass
# the repro binary (its min_duration_ms may be shortened to match --duration below).
#
#   bench/loadgen_vs_mlperf.sh build/joulebench /path/to/repro_short "20000 50000 100000"
#
# Prints, per rate, each harness's verdict and p99; run both at the same time of day on the
# same machine, interleaved, so that the machine's load affects both alike.
set -euo pipefail
joulebench=${1:?joulebench binary}
repro=${2:?MLPerf LoadGen repro binary}
rates=${3:-"20000 50000 100000 200000"}
duration=${DURATION:-10s}
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
printf '%10s  %-28s  %-28s\n' rate "joulebench (verdict, p99)" "MLPerf LoadGen (verdict, p99)"
for rate in $rates; do
  jb=$("$joulebench" loadgen --sut null --scenario server --rate "$rate" --duration "$duration" \
         --min-queries 270000 --latency-bound 10ms --no-steady-state --no-energy --max-warmup 1s \
         --json 2>/dev/null || true)
  jb_verdict=$(printf '%s' "$jb" | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])' 2>/dev/null || echo error)
  jb_p99=$(printf '%s' "$jb" | python3 -c 'import json,sys; m={x["name"]:x["value"] for x in json.load(sys.stdin)["metrics"]}; print("%.3f ms" % (m["latency_p99"]*1e3))' 2>/dev/null || echo "?")
  mkdir -p "$workdir/build"  # repro.cpp writes its logs to ./build
  (cd "$workdir" && "$repro" "$rate" > repro.out 2>&1 || true)
  lg_verdict=$(grep -m1 -o 'Result is : [A-Z]*' "$workdir/build/mlperf_log_summary.txt" 2>/dev/null | awk '{print $4}' || echo error)
  lg_p99=$(grep -m1 '99.00 percentile latency (ns)' "$workdir/build/mlperf_log_summary.txt" 2>/dev/null | awk '{printf "%.3f ms", $NF/1e6}' || echo "?")
  printf '%10s  %-28s  %-28s\n' "$rate" "$jb_verdict, $jb_p99" "${lg_verdict:-?}, ${lg_p99:-?}"
done
