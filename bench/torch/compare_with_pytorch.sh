#!/usr/bin/env bash
# joulebench's encoders against PyTorch (Debian's /usr/bin/python3), all in one run, same
# weights, shapes and threads:
#   - PyTorch's fused inference fast path (nn.TransformerEncoder, eval, inference_mode: what a
#     PyTorch user gets by default) and its per-op eager path, on bert-base's 12 layers;
#   - joulebench's encoder forward (bench_encoder_forward) on the same weights;
#   - `joulebench infer --scenario offline` through the whole harness (load generator,
#     dynamic batching, sampler, embeddings and head included);
# at 1 and 2 threads, batch 1 and 8, sequence 128 and 512 (layoutlm-base for infer at 512:
# its encoder is bert-base's, plus LayoutLM's embeddings and a token classifier). Then
# layoutlm-base's forward at 512 as a fraction of the GEMM peak measured in the same process,
# and its peak RSS.
# Usage: bench/torch/compare_with_pytorch.sh BUILD_DIR [THREAD_COUNTS] [SECONDS]
#   THREAD_COUNTS default "1 2"; SECONDS per PyTorch timing, default 5.
set -euo pipefail
build=${1:?usage: compare_with_pytorch.sh BUILD_DIR [THREAD_COUNTS] [SECONDS]}
thread_counts=${2:-1 2}
seconds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench/bench_encoder_forward"
joulebench="$build/joulebench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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
      model=bert-base
      [ "$s" = 512 ] && model=layoutlm-base
      # At 512 tokens a batch of 8 takes seconds: windows of 10 s hold a few batches.
      window=1s
      [ "$s" = 512 ] && window=10s
      "$joulebench" infer --model "$model" --seq-len "$s" --batch "$b" --scenario offline \
        --threads "$t" --duration 20s --window "$window" --min-queries 16 --gemm-duration 0s \
        --no-store --quiet --json > "$work/infer_${t}_${b}_${s}.json"
    done
  done
  # One process per LayoutLM shape, so that each peak RSS is that shape's own.
  for b in 8 1; do
    "$bench" --benchmark_filter="BM_LayoutLMBase/$b/512" --benchmark_format=json \
      > "$work/layoutlm_${t}_$b.json"
  done
done

/usr/bin/python3 - "$work" "$thread_counts" <<'PY'
import json, sys
work, thread_counts = sys.argv[1], sys.argv[2].split()

def load(name):
    return json.load(open("%s/%s.json" % (work, name)))

def metric(record, name):
    return next(m["value"] for m in record["metrics"] if m["name"] == name)

print("sequences/s (higher is better); ratios are joulebench over PyTorch's fused fast path")
header = ("threads", "batch", "seq", "PyTorch fused", "PyTorch eager", "jb forward",
          "jb infer", "infer/fused", "infer/eager", "target")
print("%-7s %5s %4s %13s %13s %10s %9s %11s %11s %7s" % header)
for t in thread_counts:
    cpp = {b["name"]: b for b in load("cpp_%s" % t)["benchmarks"]}
    for s in (128, 512):
        for b in (8, 1):
            fused = b / (load("py_fused_%s_%d_%d" % (t, b, s))["ms_per_forward"] / 1e3)
            eager = b / (load("py_eager_%s_%d_%d" % (t, b, s))["ms_per_forward"] / 1e3)
            forward = "-"
            key = "BM_BertBaseEncoder/%d/%d/real_time" % (b, s)
            if key in cpp:
                forward = "%.2f" % (b / (cpp[key]["real_time"] / 1e3))
            infer = load("infer_%s_%d_%d" % (t, b, s))
            per_s = metric(infer, "throughput")
            target = ""
            if t == "2":
                target = ">= 1.2x" if (b, s) == (8, 128) else ">= 1.0x"
            print("%-7s %5d %4d %13.2f %13.2f %10s %9.2f %10.2fx %10.2fx %7s%s"
                  % (t, b, s, fused, eager, forward, per_s, per_s / fused, per_s / eager, target,
                     "" if infer["verdict"] in ("VALID", "") else " (infer run %s)" % infer["verdict"]))
print()
for t in thread_counts:
    for b in (8, 1):
        r = load("layoutlm_%s_%d" % (t, b))["benchmarks"][0]
        own_peak = r["gemm_peak_FLOP/s"]
        print("layoutlm-base forward, %s thread(s), batch %d seq 512 fp32: %.0f ms, %.1f GFLOP/s = "
              "%.0f %% of the GEMM peak measured in the same process (%.1f GFLOP/s)%s, peak RSS "
              "%.0f MB" % (t, b, r["real_time"], r["FLOP/s"] / 1e9, 100 * r["FLOP/s"] / own_peak,
                           own_peak / 1e9, " (target >= 75 %)" if b == 8 else "", r["peak_rss_MB"]))
PY
