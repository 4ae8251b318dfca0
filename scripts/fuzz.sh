#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) in
# build-fuzz/ and runs each on its seed corpus (fuzz/corpus/<target>/) for a while.
#
# Usage: scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]
#   --seconds N  time per target (default 20: the short CI run; docs/reliability.md reports
#                runs of 600 s per target)
#   --jobs J     targets run at once (default 1)
#   TARGET       e.g. units (fuzz/units_fuzzer.cc); default: every target
# New inputs that reach new code are kept in build-fuzz/corpus/<target>/ (not committed); a
# crash leaves its input in build-fuzz/artifacts/<target>/ and makes the script fail. Add such
# an input to fuzz/regressions/<target>/ once it is fixed: every build's ctest replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -*) echo "fuzz.sh: unknown option '$1' (known: --seconds N, --jobs J)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for source in fuzz/*_fuzzer.cc; do
    name=$(basename "$source" _fuzzer.cc)
    targets+=("$name")
  done
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# -O1 with line tables: what libFuzzer's documentation suggests; asserts stay on.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
  -DJOULEBENCH_BUILD_FUZZERS=ON -DJOULEBENCH_BUILD_TESTS=OFF -DJOULEBENCH_BUILD_BENCH=OFF \
  -DJOULEBENCH_WITH_TORCH=OFF >/dev/null
programs=()
for t in "${targets[@]}"; do programs+=("${t}_fuzzer"); done
cmake --build build-fuzz -j "$(nproc)" --target "${programs[@]}"

run_one() {
  local t="$1"
  local work="build-fuzz/corpus/$t" artifacts="build-fuzz/artifacts/$t/"
  local log="build-fuzz/logs/$t.log"
  mkdir -p "$work" "$artifacts" build-fuzz/logs
  # -max_len: outside inputs are small (a reply, a file, a flag); longer inputs only slow the
  # search. -timeout: an input taking 10 s is a hang. -rss_limit_mb: 2 GB is a leak or an
  # allocation the input asked for.
  if "build-fuzz/fuzz/${t}_fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
      "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    local execs corpus
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    corpus=$(find "$work" -type f | wc -l)
    echo "fuzz $t: ok, ${execs:-?} executions in ${seconds} s, corpus ${corpus} inputs"
  else
    echo "fuzz $t: FAILED; see $log and the input in $artifacts" >&2
    grep -aE "^==[0-9]+==ERROR|runtime error|fuzz property broken|SUMMARY" "$log" | head -5 >&2
    return 1
  fi
}

failed=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
