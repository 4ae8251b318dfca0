"""Fakes of the outside world for the Python binding's tests, as tests/support/ has for C++: a
powercap tree in a temp dir whose counters a test advances, the fake NVML's control file, and
running the joulebench binary. Paths come from the environment ctest sets (python/CMakeLists.txt).
"""

import json
import os
import subprocess
import tempfile
import threading
import time
from typing import Dict, List, Optional

CLI = os.environ.get("JOULEBENCH_BIN", "")
FAKE_NVML = os.environ.get("JOULEBENCH_FAKE_NVML", "")
SOURCE_DIR = os.environ.get("JOULEBENCH_SOURCE_DIR", "")
BUILD_DIR = os.environ.get("JOULEBENCH_BUILD_DIR", "")
STUDY = os.path.join(SOURCE_DIR, "data", "examples", "study.toml")

# Large enough that no test wraps by accident (the kernel's value on many Intel machines).
RANGE_UJ = 262143328850


def _write_in_place(path: str, text: str) -> None:
    # Same inode, new number first and the old tail cut after: a reader that keeps the file
    # open (as the sampler does) never sees an empty file.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        data = text.encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


class FakePowercap:
    """root plays /sys: zones live under root/class/powercap/ (intel-rapl:0, intel-rapl:0:0)."""

    def __init__(self, root: str):
        self.root = root
        self._lock = threading.Lock()
        os.makedirs(os.path.join(root, "class", "powercap"), exist_ok=True)

    def zone_dir(self, zone: str) -> str:
        return os.path.join(self.root, "class", "powercap", zone)

    def add_zone(self, zone: str, name: str, range_uj: int = RANGE_UJ, energy_uj: int = 0) -> None:
        d = self.zone_dir(zone)
        os.makedirs(d, exist_ok=True)
        _write_in_place(os.path.join(d, "name"), name + "\n")
        _write_in_place(os.path.join(d, "max_energy_range_uj"), f"{range_uj}\n")
        _write_in_place(os.path.join(d, "energy_uj"), f"{energy_uj}\n")
        _write_in_place(os.path.join(d, "enabled"), "1\n")
        parts = zone.split(":")
        if len(parts) > 2:  # a subzone is also linked inside its parent, as the kernel does
            parent = self.zone_dir(":".join(parts[:-1]))
            link = os.path.join(parent, zone)
            if not os.path.lexists(link):
                os.symlink(d, link)

    def energy_uj(self, zone: str) -> int:
        with open(os.path.join(self.zone_dir(zone), "energy_uj")) as f:
            return int(f.readline())

    def set_raw(self, zone: str, text: str) -> None:
        """Writes `text` as the counter (e.g. garbage: a failed read for the sampler)."""
        with self._lock:
            _write_in_place(os.path.join(self.zone_dir(zone), "energy_uj"), text)

    def set_energy_uj(self, zone: str, value: int) -> None:
        with self._lock:
            _write_in_place(os.path.join(self.zone_dir(zone), "energy_uj"), f"{value}\n")

    def add_energy(self, zone: str, joules: float) -> None:
        """Advances the counter, wrapping at max_energy_range_uj like the hardware."""
        with self._lock:
            with open(os.path.join(self.zone_dir(zone), "max_energy_range_uj")) as f:
                range_uj = int(f.readline())
            value = (self.energy_uj(zone) + round(joules * 1e6)) % (range_uj + 1)
            _write_in_place(os.path.join(self.zone_dir(zone), "energy_uj"), f"{value}\n")


class FakeMachine:
    """A temp dir with sys/ (one package and its DRAM) and an empty proc/; only powercap is
    used, so that the truth is exactly what a test writes."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="joulebench-py-")
        self.path = self._dir.name
        self.sys = os.path.join(self.path, "sys")
        self.proc = os.path.join(self.path, "proc")
        os.makedirs(self.proc)
        self.powercap = FakePowercap(self.sys)
        self.powercap.add_zone("intel-rapl:0", "package-0")
        self.powercap.add_zone("intel-rapl:0:0", "dram")
        self.db = os.path.join(self.path, "runs.db")

    def meter_args(self, **more) -> Dict:
        args = dict(sysfs_root=self.sys, procfs_root=self.proc,
                    disable=["nvml", "neuron", "model"], interval="5ms")
        args.update(more)
        return args

    def cli_source_flags(self) -> List[str]:
        return ["--sysfs-root", self.sys, "--procfs-root", self.proc, "--disable", "nvml",
                "--disable", "neuron", "--disable", "model"]

    def cleanup(self) -> None:
        self._dir.cleanup()


class FakeNvmlScript:
    """The fake libnvidia-ml.so's control file ($JOULEBENCH_FAKE_NVML_CONFIG), replaced
    atomically since the sampler reads it meanwhile."""

    def __init__(self, directory: str):
        self.path = os.path.join(directory, "nvml.conf")
        os.environ["JOULEBENCH_FAKE_NVML_CONFIG"] = self.path

    def set(self, config: str) -> None:
        staged = self.path + ".new"
        with open(staged, "w") as f:
            f.write(config)
        os.replace(staged, self.path)

    def close(self) -> None:
        os.environ.pop("JOULEBENCH_FAKE_NVML_CONFIG", None)


def run_cli(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Runs the joulebench binary; storing is on (ctest switches it off for the gtests), so
    give runs a --db in the test's temp dir."""
    full_env = dict(os.environ)
    full_env["JOULEBENCH_NO_STORE"] = "0"
    full_env.update(env or {})
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=full_env,
                          timeout=120)


def stored_run(db: str, run_id: str) -> Dict:
    """The run as `joulebench runs show ID --json` reads it back."""
    r = run_cli("runs", "show", run_id, "--json", "--db", db)
    if r.returncode != 0:
        raise AssertionError(f"runs show failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


def metric(run: Dict, name: str) -> Dict:
    for m in run["metrics"]:
        if m["name"] == name:
            return m
    raise AssertionError(f"no metric {name}; metrics: {[m['name'] for m in run['metrics']]}")


def energy_window(run: Dict, name: str) -> Dict:
    for e in run["energy"]:
        if e["name"] == name:
            return e
    raise AssertionError(f"no energy window {name}; windows: {[e['name'] for e in run['energy']]}")


def wait_until(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return False
