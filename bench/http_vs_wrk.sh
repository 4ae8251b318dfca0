#!/usr/bin/env bash
# joulebench's HTTP SUT against wrk (Debian's wrk 4), both driving the same null HTTP server
# on loopback (build/bench/bench_http_null_server), in one run, interleaved:
#  1. throughput at equal connections (wrk -t1 -cC, closed loop; joulebench offline scenario,
#     connections=C, one I/O thread): ratio joulebench / wrk, target >= 0.8;
#  2. p99 latency at a fixed rate against a server that answers after 1 ms: joulebench's
#     server scenario (Poisson arrivals, latency from each query's scheduled time) against
#     wrk paced at the same rate by bench/wrk_fixed_rate.lua (wrk2-style corrected latency,
#     from each request's due time). Ratio joulebench p99 / wrk corrected p99.
# Usage: bench/http_vs_wrk.sh [build dir]  (CONNECTIONS=4 DURATION=5 ROUNDS=3 RATE=2000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
connections=${CONNECTIONS:-4}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
rate=${RATE:-2000}
jb="$build/joulebench"
server_bin="$build/bench/bench_http_null_server"
for f in "$jb" "$server_bin"; do
  [ -x "$f" ] || { echo "http_vs_wrk.sh: $f is missing: build it first" >&2; exit 2; }
done
command -v wrk > /dev/null || { echo "http_vs_wrk.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
trap "exit 130" INT TERM

start_server() {  # $1 = delay; sets $port (not in a subshell, so that cleanup knows the pid)
  local out="$tmp/server-$1.txt"
  "$server_bin" --listen 127.0.0.1:0 --delay "$1" > "$out" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "listening on" "$out" 2> /dev/null && break
    sleep 0.05
  done
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$out")
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(wrk --version 2>&1 | head -1 | cut -c1-40)"
start_server 0ms
url="http://127.0.0.1:$port/"
echo "null server: $url (no delay); $connections connections, ${duration} s per measurement, $rounds rounds"
printf '%-6s %16s %16s %8s\n' round "wrk req/s" "joulebench q/s" ratio
: > "$tmp/ratios"
for r in $(seq "$rounds"); do
  wrk_rps=$(wrk -t1 -c"$connections" -d"${duration}s" "$url" | awk '/Requests\/sec/ {print $2}')
  jb_rps=$("$jb" loadgen --sut "http:url=$url,protocol=raw,connections=$connections" \
    --scenario offline --duration "${duration}s" --min-queries 1000 --no-steady-state \
    --no-energy --no-store --quiet | sed -n 's/.*throughput \([0-9.e+]*\)\/s.*/\1/p' || true)
  ratio=$(awk -v a="$jb_rps" -v b="$wrk_rps" 'BEGIN {printf "%.3f", a / b}')
  echo "$ratio" >> "$tmp/ratios"
  printf '%-6s %16.0f %16.0f %8s\n' "$r" "$wrk_rps" "$jb_rps" "$ratio"
done
echo "throughput ratio joulebench / wrk (median of $rounds): $(median < "$tmp/ratios") (target >= 0.8)"

start_server 1ms
url="http://127.0.0.1:$port/"
echo
echo "fixed rate $rate/s against a server that replies after 1 ms ($url), $connections connections"
printf '%-6s %18s %18s %8s %20s\n' round "wrk corrected p99" "joulebench p99" ratio "wrk send lateness p99"
per_connection=$(awk -v r="$rate" -v c="$connections" 'BEGIN {print r / c}')
: > "$tmp/p99"
for r in $(seq "$rounds"); do
  WRK_RATE_PER_CONNECTION=$per_connection wrk -t"$connections" -c"$connections" \
    -d"${duration}s" -s bench/wrk_fixed_rate.lua "$url" > "$tmp/wrk.txt"
  wrk_p99=$(awk '/corrected p99 / {print $3}' "$tmp/wrk.txt")
  wrk_late=$(awk '/send lateness/ {print $7}' "$tmp/wrk.txt")
  jb_out=$("$jb" loadgen --sut "http:url=$url,protocol=raw,connections=$connections" \
    --scenario server --rate "$rate" --latency-bound 1s --duration "${duration}s" \
    --no-steady-state --no-energy --no-store --quiet || true)  # INVALID exits 1
  jb_p99=$(echo "$jb_out" | awk '/^  p99/ {print $2, $3}')
  jb_p99_us=$(echo "$jb_p99" | awk '{v=$1; u=$2; if (u=="ms") v*=1000; else if (u=="s") v*=1e6; else if (u=="ns") v/=1000; print v}')
  ratio=$(awk -v a="$jb_p99_us" -v b="$wrk_p99" 'BEGIN {printf "%.3f", a / b}')
  echo "$ratio" >> "$tmp/p99"
  printf '%-6s %15.0f us %15.0f us %8s %17.0f us\n' "$r" "$wrk_p99" "$jb_p99_us" "$ratio" "$wrk_late"
done
echo "p99 ratio joulebench / wrk corrected (median of $rounds): $(median < "$tmp/p99")"
