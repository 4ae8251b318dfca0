#!/usr/bin/env bash
# `joulebench tune infer` on LayoutLM-base at 128 tokens against the default serving
# configuration (fp32, 1 thread, batches of one, no delay), both measured in the same run at the
# same rung (the tune measures the default with every rung of its search): prints the chosen
# configuration, both energies per inference and their ratio, with the energy's provenance.
# Usage: bench/tune_vs_default.sh [build dir]
#        (MODEL=layoutlm-base SEQ_LEN=128 BOUND=100ms BUDGET=15m; BASELINE=10s measures idle
#        power first and compares attributable energy (leave it out on a machine others load:
#        their load is not idle); EXTRA="..." adds tune flags, e.g. EXTRA="--min-queries 20")
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jb="$build/joulebench"
model=${MODEL:-layoutlm-base}
seq_len=${SEQ_LEN:-128}
bound=${BOUND:-100ms}
budget=${BUDGET:-15m}
baseline=${BASELINE:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# KEEP=FILE keeps the tune run's JSON.

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tune infer: $model, $seq_len tokens, p99 bound $bound, budget $budget, idle baseline ${baseline:-none}"
start=$(date +%s)
# shellcheck disable=SC2086
"$jb" tune infer --model "$model" --seq-len "$seq_len" --latency-bound "$bound" \
  --budget "$budget" ${baseline:+--baseline "$baseline"} --no-store ${EXTRA:-} --json \
  > "$tmp/tune.json"
echo "the search took $(( $(date +%s) - start )) s"
[ -n "${KEEP:-}" ] && cp "$tmp/tune.json" "$KEEP"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$tmp/tune.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
def metric(name):
    return next((m for m in run["metrics"] if m["name"] == name), None)
tune = run["config"]["tune"]
print(f"verdict {run['verdict']} {'; '.join(run['verdict_reasons'])}")
for s in tune.get("skipped", []):
    print(f"  not searched: {s['knob']} {s['value']}: {s['reason']}")
for dtype, a in tune.get("accuracy", {}).items():
    print(f"  {dtype} vs fp32: cosine {a['cosine_similarity']:.6f}, max |diff| {a['max_abs_diff']:.4g}"
          f" (largest output {a['reference_max_abs']:.4g}), same top label {100 * a['argmax_agreement']:.1f} %")
measured = [p for p in run["tune_probes"] if p["outcome"] == "measured"]
print(f"probes measured: {len(measured)} of {len(run['tune_probes'])}; rungs completed {tune.get('complete_rungs')}")
if "chosen" not in tune:
    sys.exit("no configuration was chosen: no ratio")
key = "energy_per_inference_attributable" if metric("energy_per_inference_attributable") else "energy_per_inference"
chosen, default = metric(key), metric("default_" + key)
print(f"chosen:  {tune['chosen']['name']} (rung {tune['chosen']['rung']})")
print(f"default: {tune.get('default', {}).get('name', 'n/a')}")
print(f"{key}: chosen {chosen['value']:.4g} J, default {default['value'] if default else float('nan'):.4g} J")
ratio = metric(key.replace("_attributable", "") + "_ratio_to_default")
if ratio:
    print(f"J/inference ratio chosen / default: {ratio['value']:.3f}")
    print(f"  ({ratio['provenance']})")
print(f"energy provenance: {chosen['provenance']}")
PY
