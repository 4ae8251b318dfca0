#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU and nvcc (CI never runs it): builds joulebench
# without libtorch, compiles a CUDA burn kernel (bench/gpu/burn.cu), runs `joulebench probe`
# and `joulebench measure -- burn`, and samples `nvidia-smi --query-gpu=power.draw` every
# 100 ms alongside. Then it compares, per GPU and over the measurement window, the energy
# joulebench measured through NVML with nvidia-smi's power integrated over time (trapezoid),
# and prints both and their ratio. Exits 1 with one line when there is no GPU, no nvcc, or
# the two differ by more than 10 %.
#
# Usage: bench/gpu/verify.sh [BURN_SECONDS]    (default 60: the whole check takes 2-4 min)
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc).
set -euo pipefail

die() {
  echo "bench/gpu/verify.sh: $*" >&2
  exit 1
}

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
burn_s="${1:-60}"
case "$burn_s" in
  '' | *[!0-9]*) die "BURN_SECONDS '$burn_s' must be a whole number of seconds, e.g. 60" ;;
esac

command -v nvidia-smi >/dev/null 2>&1 ||
  die "no NVIDIA GPU: nvidia-smi is not installed (run this on a machine with an NVIDIA GPU and its driver)"
if ! gpus="$(nvidia-smi -L 2>&1)" || [ -z "$gpus" ]; then
  die "no NVIDIA GPU: nvidia-smi -L says: ${gpus%%$'\n'*}"
fi
nvcc="${NVCC:-$(command -v nvcc || true)}"
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
  die "no nvcc: install the CUDA toolkit, or set NVCC=/path/to/nvcc"
fi
command -v cmake >/dev/null 2>&1 ||
  die "no cmake: install the build dependencies (scripts/install-deps.sh --no-torch --no-browser)"
command -v python3 >/dev/null 2>&1 || die "no python3: it integrates nvidia-smi's samples"

work="$(mktemp -d "${TMPDIR:-/tmp}/joulebench-gpu.XXXXXX")"
echo "== $gpus"
echo "== work directory $work"

echo "== building joulebench without libtorch, tests or benchmarks"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if ! cmake -S "$root" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DJOULEBENCH_WITH_TORCH=OFF -DJOULEBENCH_BUILD_TESTS=OFF -DJOULEBENCH_BUILD_BENCH=OFF \
  >"$work/cmake.log" 2>&1; then
  tail -n 5 "$work/cmake.log" >&2
  die "configuring joulebench failed (missing packages? scripts/install-deps.sh --no-torch --no-browser); log: $work/cmake.log"
fi
if ! timeout 180 cmake --build "$work/build" -j "$(nproc)" --target joulebench_cli \
  >"$work/build.log" 2>&1; then
  tail -n 20 "$work/build.log" >&2
  die "building joulebench failed or took over 3 min; log: $work/build.log"
fi
jb="$work/build/joulebench"

echo "== compiling the burn kernel with $nvcc"
"$nvcc" -O3 -o "$work/burn" "$here/burn.cu" >"$work/nvcc.log" 2>&1 ||
  die "nvcc failed: $(head -n 1 "$work/nvcc.log"); log: $work/nvcc.log"

echo "== joulebench probe"
"$jb" probe --disable model

echo "== joulebench measure: ${burn_s} s of burn, nvidia-smi sampling every 100 ms alongside"
nvidia-smi --query-gpu=timestamp,index,power.draw --format=csv,noheader,nounits -lms 100 \
  >"$work/nvidia-smi.csv" 2>"$work/nvidia-smi.err" &
smi_pid=$!
trap 'kill "$smi_pid" 2>/dev/null || true' EXIT
sleep 1  # nvidia-smi's first samples come before the window opens
db="$work/runs.db"
if ! JOULEBENCH_NO_STORE=0 timeout $((burn_s + 90)) "$jb" measure --interval 100ms \
  --disable model --db "$db" --quiet --name gpu-verify -- "$work/burn" --seconds "$burn_s" \
  >"$work/measure.txt" 2>"$work/measure.err"; then
  cat "$work/measure.txt" "$work/measure.err" >&2
  die "joulebench measure failed; logs: $work/measure.txt, $work/measure.err"
fi
sleep 1  # and its last ones after it closes
kill "$smi_pid" 2>/dev/null || true
wait "$smi_pid" 2>/dev/null || true
trap - EXIT
cat "$work/measure.txt"
id="$(sed -n 's/.*stored as run \([0-9][0-9]*\) in .*/\1/p' "$work/measure.err" | head -n 1)"
[ -n "$id" ] || die "the run was not stored: $(head -n 1 "$work/measure.err")"
"$jb" runs show "$id" --json --db "$db" >"$work/run.json"

echo "== NVML (joulebench) against nvidia-smi power.draw, over the measurement window"
python3 - "$work/run.json" "$work/nvidia-smi.csv" <<'PY'
import datetime
import json
import sys

run = json.load(open(sys.argv[1]))
window = next(e for e in run["energy"] if e["name"] == "measurement")
t0 = run["timeline"]["start_unix_s"]
begin, end = t0 + window["begin_s"], t0 + window["end_s"]

samples = {}  # GPU index -> [(unix time, watts)]
for line in open(sys.argv[2]):
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 3:
        continue
    try:
        # nvidia-smi prints local time, e.g. "2026/12/02 15:33:12.345".
        t = datetime.datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
        samples.setdefault(int(parts[1]), []).append((t, float(parts[2])))
    except ValueError:
        continue  # "[N/A]" or a partial line


def integrate(points, a, b):
    """Trapezoid over [a, b], linear interpolation at the edges."""
    def at(t):
        for (t1, w1), (t2, w2) in zip(points, points[1:]):
            if t1 <= t <= t2:
                return w1 + (w2 - w1) * (t - t1) / (t2 - t1) if t2 > t1 else w1
        return None
    inside = [(a, at(a))] + [p for p in points if a < p[0] < b] + [(b, at(b))]
    if inside[0][1] is None or inside[-1][1] is None:
        return None
    return sum((t2 - t1) * (w1 + w2) / 2 for (t1, w1), (t2, w2) in zip(inside, inside[1:]))


bad = False
gpus = [d for d in window["domains"] if d["domain"]["name"].startswith("nvml/gpu")]
if not gpus:
    print("bench/gpu/verify.sh: joulebench measured no NVML domain (see the probe above)",
          file=sys.stderr)
    sys.exit(1)
print(f"window {end - begin:.1f} s")
for d in gpus:
    name = d["domain"]["name"]
    index = int(name[len("nvml/gpu"):])
    smi = integrate(sorted(samples.get(index, [])), begin, end)
    if smi is None or smi <= 0:
        print(f"{name}: nvidia-smi's samples do not cover the window", file=sys.stderr)
        bad = True
        continue
    ratio = d["joules"] / smi
    print(f"{name}: NVML {d['joules']:.1f} J ({d['mean_watts']:.1f} W, "
          f"{d['domain']['signal']}, {d['domain']['provenance']['by']}); "
          f"nvidia-smi power.draw integrated {smi:.1f} J ({smi / (end - begin):.1f} W); "
          f"ratio NVML / nvidia-smi = {ratio:.4f}")
    if not 0.9 <= ratio <= 1.1:
        bad = True
if bad:
    print("bench/gpu/verify.sh: NVML and nvidia-smi differ by more than 10 % (or could not be "
          "compared)", file=sys.stderr)
    sys.exit(1)
PY
