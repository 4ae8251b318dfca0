#!/usr/bin/env bash
# Our C++ bert-base encoder forward vs PyTorch's torch.nn.TransformerEncoder (Debian's
# /usr/bin/python3), same run, same weights, shapes and threads; then layoutlm-base at
# sequence 512 as a fraction of the measured GEMM peak, and its peak RSS at batch 8.
# Usage: bench/torch/compare_with_pytorch.sh BUILD_DIR [THREADS]
set -euo pipefail
build=${1:?usage: compare_with_pytorch.sh BUILD_DIR [THREADS]}
threads=${2:-1}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench/bench_encoder_forward"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# ATen sizes OpenMP; OpenBLAS (Debian's BLAS behind libtorch) has its own pool.
export JOULEBENCH_THREADS=$threads OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads

"$bench" --save-weights "$work/bert-base.pt"
"$bench" --benchmark_filter='BM_BertBaseEncoder|BM_GemmPeak' --benchmark_min_time=5 \
  --benchmark_format=json > "$work/cpp.json"
# The same encoder with its dense layers on libtorch's BLAS path, for reference.
JOULEBENCH_LINEAR_KERNEL=blas "$bench" --benchmark_filter='BM_BertBaseEncoder' \
  --benchmark_min_time=5 --benchmark_format=json > "$work/cpp_blas.json"
for b in 8 1; do
  /usr/bin/python3 "$here/pytorch_encoder.py" "$work/bert-base.pt" "$threads" "$b" 128 5 \
    > "$work/py_$b.json"
done
# One process per LayoutLM shape, so that each peak RSS is that shape's own.
"$bench" --benchmark_filter='BM_LayoutLMBase/8/512' --benchmark_format=json > "$work/layoutlm8.json"
"$bench" --benchmark_filter='BM_LayoutLMBase/1/512' --benchmark_format=json > "$work/layoutlm1.json"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
cpp = {b["name"]: b for b in json.load(open(work + "/cpp.json"))["benchmarks"]}
cpp_blas = {b["name"]: b for b in json.load(open(work + "/cpp_blas.json"))["benchmarks"]}
gemms = {b.get("label", "?"): b["GEMM_FLOP/s"] for n, b in cpp.items() if n.startswith("BM_GemmPeak")}
gemm = max(gemms.values())
print("threads: %s" % json.load(open(work + "/py_8.json"))["threads"])
for b, target in ((8, 1.0), (1, 1.2)):
    ours = next(v for n, v in cpp.items() if n.startswith("BM_BertBaseEncoder/%d/128" % b))
    ours_ms = ours["real_time"]
    py_ms = json.load(open(work + "/py_%d.json" % b))["ms_per_forward"]
    print("bert-base encoder batch %d seq 128 fp32: joulebench %.1f ms, PyTorch "
          "nn.TransformerEncoder %.1f ms -> speed-up %.2fx (target >= %.1fx)"
          % (b, ours_ms, py_ms, py_ms / ours_ms, target))
    blas = next(v for n, v in cpp_blas.items() if n.startswith("BM_BertBaseEncoder/%d/128" % b))
    print("    (kernel %s; with --linear-kernel blas: %.1f ms -> %.2fx)"
          % (ours.get("label", "?"), blas["real_time"], py_ms / blas["real_time"]))
print("GEMM peak (2048^3, fp32): %.1f GFLOP/s, the faster of %s"
      % (gemm / 1e9, ", ".join("%s %.1f" % (k, v / 1e9) for k, v in sorted(gemms.items()))))
for b in (8, 1):
    r = json.load(open(work + "/layoutlm%d.json" % b))["benchmarks"][0]
    own_peak = r["gemm_peak_FLOP/s"]
    print("layoutlm-base batch %d seq 512 fp32: %.0f ms/forward, %.1f GFLOP/s = %.0f %% of the "
          "GEMM peak measured in the same process (%.1f GFLOP/s)%s, peak RSS %.0f MB%s"
          % (b, r["real_time"], r["FLOP/s"] / 1e9, 100 * r["FLOP/s"] / own_peak, own_peak / 1e9,
             " (target >= 60 %)" if b >= 8 else "", r["peak_rss_MB"],
             " (target <= 2048 MB)" if b == 8 else ""))
PY
