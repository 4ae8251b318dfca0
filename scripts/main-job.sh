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
# The study on this machine, small shapes: LayoutLM serving and BERT training, each stored,
# side by side with the study's published machines, and the HTML report.
"$bin" study --quick --report joulebench-study.html
echo "joulebench: the study's report is $(pwd)/joulebench-study.html"
echo "joulebench: stored runs: $bin runs list"

