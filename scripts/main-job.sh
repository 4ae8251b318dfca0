#!/usr/bin/env bash
# Installs every dependency, builds joulebench, and runs the main job on this machine:
# what can be measured here (probe), one measured command, then the study (quick shapes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJOULEBENCH_BUILD_TESTS=OFF \
  -DJOULEBENCH_BUILD_BENCH=OFF
cmake --build build -j "$(nproc)" --target joulebench_cli
bin=build/joulebench
"$bin" probe
# A short CPU-bound command, measured end to end.
"$bin" measure --baseline 2s -- sh -c 'i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done'
if "$bin" study --help >/dev/null 2>&1; then
  "$bin" study --quick --report joulebench-study.html
fi
