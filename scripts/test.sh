#!/usr/bin/env bash
# Installs every dependency, builds joulebench with its tests, and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The Python binding is required here: a missing pybind11 fails CI instead of skipping its tests.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJOULEBENCH_BUILD_PYTHON=ON
cmake --build build -j "$(nproc)"
cd build
ctest --output-on-failure -j "$(nproc)"
