#!/usr/bin/env bash
# The same model measured in-process (joulebench infer) and over HTTP (joulebench serve +
# loadgen --sut http), offline scenario, side by side: throughput and energy per inference
# (the meters this machine has; `joulebench probe` says which), and for the HTTP run the
# server's CPU share and attributed CPU energy (--server-pid).
# Usage: bench/http_infer_vs_serve.sh [build dir]  (MODEL=layoutlm-base SEQ_LEN=64 BATCH=8
#        DURATION=20s CONNECTIONS=16 THREADS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jb="$build/joulebench"
model=${MODEL:-layoutlm-base}
seq_len=${SEQ_LEN:-64}
batch=${BATCH:-8}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-16}
threads=${THREADS:-1}
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model $model, seq_len $seq_len, batch $batch, $threads libtorch thread(s), $duration measured"
echo
"$jb" infer --model "$model" --seq-len "$seq_len" --batch "$batch" --threads "$threads" \
  --scenario offline --duration "$duration" --gemm-duration 0s --no-store --quiet --json \
  > "$tmp/infer.json"

"$jb" serve --model "$model" --listen 127.0.0.1:0 --max-batch "$batch" --max-delay 20ms \
  --threads "$threads" > "$tmp/serve.txt" &
server_pid=$!
for _ in $(seq 600); do grep -q "/infer" "$tmp/serve.txt" 2> /dev/null && break; sleep 0.1; done
port=$(sed -n 's/.* on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/serve.txt")
"$jb" loadgen \
  --sut "http:url=http://127.0.0.1:$port,model=$model,seq_len=$seq_len,connections=$connections" \
  --scenario offline --duration "$duration" --server-pid "$server_pid" --no-store --quiet --json \
  > "$tmp/http.json" || true
kill "$server_pid"
wait "$server_pid" || true
server_pid=

/usr/bin/python3 - "$tmp/infer.json" "$tmp/http.json" <<'PY'
import json, sys
infer, http = (json.load(open(p)) for p in sys.argv[1:3])
def metric(run, name):
    for m in run["metrics"]:
        if m["name"] == name:
            return m
    return None
def fmt(m, scale=1.0, unit=""):
    return "n/a" if m is None else f"{m['value'] * scale:.4g}{unit}"
rows = [
    ("verdict", infer["verdict"], http["verdict"]),
    ("throughput (inferences/s)", fmt(metric(infer, "throughput")), fmt(metric(http, "throughput"))),
    ("latency p50 (ms)", fmt(metric(infer, "latency_p50"), 1e3), fmt(metric(http, "latency_p50"), 1e3)),
    ("latency p99 (ms)", fmt(metric(infer, "latency_p99"), 1e3), fmt(metric(http, "latency_p99"), 1e3)),
    ("energy per inference (J)", fmt(metric(infer, "energy_per_inference")),
     fmt(metric(http, "energy_per_query"))),
    ("mean power (W)", fmt(metric(infer, "measurement_power")), fmt(metric(http, "measurement_power"))),
    ("server CPU share", "-", fmt(metric(http, "server_cpu_share"), 100, " %")),
    ("load generator CPU share", "-", fmt(metric(http, "loadgen_cpu_share"), 100, " %")),
    ("server CPU energy per inference (J)", "-", fmt(metric(http, "server_cpu_energy_per_query"))),
]
print(f"| {'':38} | {'infer (in-process)':>20} | {'loadgen --sut http + serve':>28} |")
print(f"|{'-' * 40}|{'-' * 22}:|{'-' * 30}:|")
for name, a, b in rows:
    print(f"| {name:38} | {a:>20} | {b:>28} |")
for label, run, name in (("infer", infer, "energy_per_inference"), ("http", http, "energy_per_query")):
    m = metric(run, name)
    if m: print(f"{label} energy provenance: {m['provenance']}")
m = metric(http, "server_cpu_energy_per_query")
if m: print(f"server CPU energy: {m['provenance']}")
PY
