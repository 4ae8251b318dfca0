#!/usr/bin/env bash
# Installs every system package joulebench needs to build, test and run, from Debian only.
# Usage: scripts/install-deps.sh [--no-torch] [--no-browser]
set -euo pipefail

with_torch=1
with_browser=1
for arg in "$@"; do
  case "$arg" in
    --no-torch) with_torch=0 ;;
    --no-browser) with_browser=0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (known: --no-torch, --no-browser)" >&2; exit 2 ;;
  esac
done

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi

packages=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-format clang-tidy
  # BMC sources (Redfish over HTTPS, IPMI DCMI); the HTTP system under test (libcurl with
  # nghttp2) and `serve` (libevent). Tests: a Redfish server in Python's standard library with
  # a certificate made by openssl, nghttpd (a real HTTP/2 server), wrk (the reference load
  # generator).
  libcurl4-openssl-dev libfreeipmi-dev libevent-dev nghttp2-server wrk openssl python3
  # The Python binding (python/): pybind11 and the headers of Debian's Python.
  pybind11-dev python3-dev
  # The Prometheus exporter (prometheus-cpp's data model and text format) and, for its tests,
  # a real Prometheus server started on loopback by the test, and its linter promtool.
  prometheus-cpp-dev prometheus
  # Multi-node runs (--mpi) and their tests: Open MPI's library and mpirun, and a one-node
  # Slurm cluster the tests start on loopback (munge, slurmctld, slurmd, srun/sbatch).
  libopenmpi-dev openmpi-bin munge slurmctld slurmd slurm-client
)
if [ "$with_torch" = 1 ]; then
  # OpenBLAS must come with libtorch: without it Debian's libtorch falls back to the
  # reference BLAS and runs about 30x slower. libdnnl-dev: the headers of the oneDNN that
  # Debian's libtorch runs on, for the encoders' fp32 CPU inference on its primitives.
  packages+=(libtorch-dev libopenblas0-pthread python3-torch python3-numpy libdnnl-dev)
fi
if [ "$with_browser" = 1 ]; then
  packages+=(chromium)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
