"""The Meter with the fake libnvidia-ml.so, loaded through the same dlopen path as the real one."""

import tempfile
import time
import unittest

import joulebench
from support import FAKE_NVML, FakeNvmlScript


class NvmlTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="joulebench-nvml-")
        self.script = FakeNvmlScript(self.dir.name)

    def tearDown(self):
        self.script.close()
        self.dir.cleanup()

    def meter(self, **more):
        return joulebench.Meter(nvml_library=FAKE_NVML, interval="5ms",
                                disable=["powercap", "perf_event", "neuron", "model"], **more)

    def test_window_energy_is_the_gpu_counter_difference(self):
        self.script.set("count=1\ngpu0.arch=9\ngpu0.energy_mj=1000\n")
        with self.meter() as m:
            with m.window("inference") as w:
                self.script.set("count=1\ngpu0.arch=9\ngpu0.energy_mj=3500\n")
                time.sleep(0.02)
                self.script.set("count=1\ngpu0.arch=9\ngpu0.energy_mj=6000\n")
        gpu = w.report.domain("nvml/gpu0")
        self.assertAlmostEqual(gpu.joules, 5.0, places=9)
        self.assertEqual(gpu.component, "accelerator")
        self.assertEqual(gpu.provenance_kind, "measured")
        self.assertIn("NVML", gpu.provenance_by)
        # A Hopper GPU averages power over 1 s: a short window is flagged.
        self.assertTrue(any("nvml/gpu0" in warning for warning in w.report.warnings))
        nvml = next(s for s in m.report().sources if s["name"] == "nvml")
        self.assertEqual((nvml["status"], nvml["domains"]), ("available", 1))

    def test_power_gauge_is_integrated_over_the_window(self):
        self.script.set("count=1\ngpu0.arch=6\ngpu0.energy_error=3\ngpu0.power_mw=70000\n")
        with self.meter() as m:
            with m.window("gauge") as w:
                time.sleep(0.05)
        gpu = w.report.domain("nvml/gpu0")
        self.assertEqual(gpu.signal, "gauge")
        self.assertAlmostEqual(gpu.joules, 70.0 * w.report.duration_s, places=6)
        self.assertAlmostEqual(gpu.mean_watts, 70.0, places=6)

    def test_probe_reports_the_fake_gpu(self):
        self.script.set("count=2\ngpu0.arch=9\ngpu1.arch=9\n")
        p = joulebench.probe(nvml_library=FAKE_NVML)
        nvml = p.source("nvml")
        self.assertEqual(nvml["status"], "available")
        self.assertEqual([d["name"] for d in nvml["domains"]], ["nvml/gpu0", "nvml/gpu1"])


if __name__ == "__main__":
    unittest.main()
