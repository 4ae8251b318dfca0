#!/usr/bin/env bash
# joulebench's encoders against PyTorch (Debian's /usr/bin/python3), all in one run, same
# weights, shapes and threads:
#   - PyTorch's fused inference fast path (nn.TransformerEncoder, eval, inference_mode: what a
#     PyTorch user gets by default) and its per-op eager path, on bert-base's 12 layers;
#   - joulebench's encoder forward (bench_encoder_forward) on the same weights, on oneDNN
#     primitives (what `infer` runs) and op by op through libtorch (the path before them);
#   - `joulebench infer --scenario offline` through the whole harness (load generator,
#     dynamic batching, sampler, embeddings and head included), and optionally an older
#     joulebench's infer at the same shapes (before/after in the same run);
# at 1 and 2 threads, batch 1 and 8, sequence 128 and 512 (layoutlm-base for infer at 512:
# its encoder is bert-base's, plus LayoutLM's embeddings and a token classifier). Then
# layoutlm-base's forward at 512 as a fraction of the GEMM peak measured in the same process,
# and its peak RSS.
# Two tables: wall-clock sequences/s (what the targets are about; meaningful on a quiet
# machine), and CPU milliseconds per sequence (process CPU time of every thread: at one thread
# it barely moves when other processes load the machine). Each row says which share of the
# machine's CPU time other processes took while it was measured.
# Usage: bench/torch/compare_with_pytorch.sh BUILD_DIR [THREAD_COUNTS] [SECONDS] [INFER_DURATION]
#   THREAD_COUNTS default "1 2"; SECONDS per PyTorch and forward timing, default 5;
#   INFER_DURATION of each infer measurement, default 20s.
#   JOULEBENCH_BASELINE=/path/to/an/older/joulebench adds its infer at each shape.
set -euo pipefail
build=${1:?usage: compare_with_pytorch.sh BUILD_DIR [THREAD_COUNTS] [SECONDS] [INFER_DURATION]}
thread_counts=${2:-1 2}
seconds=${3:-5}
infer_duration=${4:-20s}
baseline=${JOULEBENCH_BASELINE:-}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench/bench_encoder_forward"
joulebench="$build/joulebench"
for program in "$bench" "$joulebench" $baseline; do
  if [ ! -x "$program" ]; then
    echo "compare_with_pytorch.sh: $program is missing; build the targets bench_encoder_forward" \
      "and joulebench_cli first" >&2
    exit 2
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The shapes' infer runs; a failed run leaves its JSON empty and its row says so.
run_infer() {  # PROGRAM OUT THREADS BATCH SEQ
  local program=$1 out=$2 t=$3 b=$4 s=$5 model=bert-base window=1s
  # At 512 tokens a batch of 8 takes seconds: windows of 10 s hold a few batches.
  if [ "$s" = 512 ]; then model=layoutlm-base window=10s; fi
  "$program" infer --model "$model" --seq-len "$s" --batch "$b" --scenario offline \
    --threads "$t" --duration "$infer_duration" --window "$window" --min-queries 16 \
    --gemm-duration 0s --no-store --quiet --json > "$out" 2> "$out.err" || true
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" --save-weights "$work/bert-base.pt"
for t in $thread_counts; do
  # ATen sizes OpenMP; OpenBLAS (Debian's BLAS behind libtorch) has its own pool.
  export JOULEBENCH_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t
  "$bench" --benchmark_filter='BM_BertBaseEncoder' --benchmark_min_time="$seconds" \
    --benchmark_format=json > "$work/cpp_$t.json"
  for s in 128 512; do
    for b in 8 1; do
      for path in fused eager; do
        /usr/bin/python3 "$here/pytorch_encoder.py" "$work/bert-base.pt" "$t" "$b" "$s" \
          "$seconds" "$path" > "$work/py_${path}_${t}_${b}_${s}.json"
      done
      run_infer "$joulebench" "$work/infer_${t}_${b}_${s}.json" "$t" "$b" "$s"
      if [ -n "$baseline" ]; then
        run_infer "$baseline" "$work/base_${t}_${b}_${s}.json" "$t" "$b" "$s"
      fi
    done
  done
  # One process per LayoutLM shape, so that each peak RSS is that shape's own.
  for b in 8 1; do
    "$bench" --benchmark_filter="BM_LayoutLMBase/$b/512" --benchmark_format=json \
      > "$work/layoutlm_${t}_$b.json"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$work" "$thread_counts" "$baseline" <<'PY'
import json, os, sys
work, thread_counts, baseline = sys.argv[1], sys.argv[2].split(), sys.argv[3]

def load(name):
    path = "%s/%s.json" % (work, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    return json.load(open(path))

def metric(record, name):
    """A run record's metric by name; None when the record or the metric is absent."""
    if record is None:
        return None
    return next((m["value"] for m in record.get("metrics", []) if m["name"] == name), None)

def fmt(value, spec="%.2f"):
    return "-" if value is None else spec % value

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

def infer_note(record, name):
    if record is None:
        err = "%s/%s.json.err" % (work, name)
        first = open(err).read().strip().splitlines()[:1] if os.path.exists(err) else []
        return " (infer failed: %s)" % (first[0] if first else "no output")
    if record.get("verdict") not in ("VALID", ""):
        return " (infer run %s: %s)" % (record.get("verdict"),
                                        "; ".join(record.get("verdict_reasons", [])))
    return ""

rows = []
for t in thread_counts:
    cpp = {b["name"]: b for b in (load("cpp_%s" % t) or {"benchmarks": []})["benchmarks"]}
    for s in (128, 512):
        for b in (8, 1):
            r = {"t": t, "b": b, "s": s}
            for path in ("fused", "eager"):
                py = load("py_%s_%s_%d_%d" % (path, t, b, s))
                r[path] = b / (py["ms_per_forward"] / 1e3)
                r[path + "_cpu"] = py["cpu_ms_per_forward"] / b
                r[path + "_others"] = py.get("other_processes_cpu_share")
            for key, p in (("fwd", 1), ("fwd_op", 0)):
                bm = cpp.get("BM_BertBaseEncoder/%d/%d/%d/process_time/real_time" % (b, s, p))
                ok = bm is not None and not bm.get("error_occurred")
                r[key] = b / (bm["real_time"] / 1e3) if ok else None
                r[key + "_cpu"] = bm["cpu_time"] / b if ok else None
            infer = load("infer_%s_%d_%d" % (t, b, s))
            r["infer"] = metric(infer, "throughput")
            cpu = metric(infer, "cpu_time_per_inference")
            r["infer_cpu"] = cpu * 1e3 if cpu is not None else None
            r["infer_others"] = metric(infer, "other_processes_cpu_share")
            r["note"] = infer_note(infer, "infer_%s_%d_%d" % (t, b, s))
            if baseline:
                base = load("base_%s_%d_%d" % (t, b, s))
                r["base"] = metric(base, "throughput")
                r["note"] += infer_note(base, "base_%s_%d_%d" % (t, b, s)).replace(
                    "infer", "baseline infer")
            r["target"] = ""
            if t == "2":
                r["target"] = 1.2 if (b, s) == (8, 128) else 1.0
            rows.append(r)

print()
print("Wall clock, sequences/s (higher is better); ratios: joulebench infer over PyTorch")
header = ["threads", "batch", "seq", "PT fused", "PT eager", "jb fwd", "jb fwd op", "jb infer"]
if baseline:
    header.append("base infer")
header += ["infer/fused", "infer/eager", "target", "others %"]
print(" ".join("%11s" % h for h in header))
for r in rows:
    cells = [r["t"], str(r["b"]), str(r["s"]), fmt(r["fused"]), fmt(r["eager"]), fmt(r["fwd"]),
             fmt(r["fwd_op"]), fmt(r["infer"])]
    if baseline:
        cells.append(fmt(r.get("base")))
    vs_fused = ratio(r["infer"], r["fused"])
    target = ""
    if r["target"]:
        target = ">=%.1fx %s" % (r["target"], "met" if vs_fused and vs_fused >= r["target"]
                                 else "NOT met")
    cells += [fmt(vs_fused, "%.2fx"), fmt(ratio(r["infer"], r["eager"]), "%.2fx"), target,
              fmt(r["infer_others"] and 100 * r["infer_others"], "%.0f")]
    print(" ".join("%11s" % c for c in cells) + r["note"])

print()
print("CPU time, ms per sequence (lower is better; every thread of the process); ratios: "
      "PyTorch's CPU time over joulebench infer's")
header = ["threads", "batch", "seq", "PT fused", "PT eager", "jb fwd", "jb fwd op", "jb infer",
          "fused/infer", "eager/infer", "others %"]
print(" ".join("%11s" % h for h in header))
for r in rows:
    others = [x for x in (r["fused_others"], r["eager_others"], r["infer_others"]) if x is not None]
    cells = [r["t"], str(r["b"]), str(r["s"]), fmt(r["fused_cpu"], "%.1f"),
             fmt(r["eager_cpu"], "%.1f"), fmt(r["fwd_cpu"], "%.1f"), fmt(r["fwd_op_cpu"], "%.1f"),
             fmt(r["infer_cpu"], "%.1f"), fmt(ratio(r["fused_cpu"], r["infer_cpu"]), "%.2fx"),
             fmt(ratio(r["eager_cpu"], r["infer_cpu"]), "%.2fx"),
             fmt(max(others) * 100 if others else None, "%.0f")]
    print(" ".join("%11s" % c for c in cells))
print("('others %': the largest share of the machine's CPU time that other processes took "
      "during that row's measurements; wall-clock figures from a row above about 10 % are "
      "those of a shared machine)")
print()
for t in thread_counts:
    for b in (8, 1):
        data = load("layoutlm_%s_%d" % (t, b))
        if data is None:
            print("layoutlm-base forward, %s thread(s), batch %d: no result" % (t, b))
            continue
        r = data["benchmarks"][0]
        own_peak = r["gemm_peak_FLOP/s"]
        flops_per_run = r["FLOP/s"] * r["real_time"] / 1e3
        per_cpu_s = flops_per_run / (r["cpu_time"] / 1e3)
        peak_per_cpu_s = r["gemm_peak_FLOP_per_cpu_s"]
        print("layoutlm-base forward, %s thread(s), batch %d seq 512 fp32: %.0f ms, %.1f GFLOP/s = "
              "%.0f %% of the GEMM peak measured in the same process (%.1f GFLOP/s)%s; per CPU "
              "second: %.1f of %.1f GFLOP = %.0f %%; peak RSS %.0f MB"
              % (t, b, r["real_time"], r["FLOP/s"] / 1e9, 100 * r["FLOP/s"] / own_peak,
                 own_peak / 1e9, " (target >= 75 %)" if b == 8 else "", per_cpu_s / 1e9,
                 peak_per_cpu_s / 1e9, 100 * per_cpu_s / peak_per_cpu_s, r["peak_rss_MB"]))
PY
