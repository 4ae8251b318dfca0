"""joulebench.Meter against a fake powercap tree: windows, nesting, work, baseline, reports."""

import json
import threading
import time
import unittest

import joulebench
from support import FakeMachine, wait_until

PACKAGE = "rapl/package-0"
DRAM = "rapl/package-0/dram"


class MeterTest(unittest.TestCase):
    def setUp(self):
        self.machine = FakeMachine()
        self.powercap = self.machine.powercap

    def tearDown(self):
        self.machine.cleanup()

    def test_window_energy_is_what_the_counters_advanced_inside_it(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            self.powercap.add_energy("intel-rapl:0", 5.0)  # before the window
            with m.window("epoch 1") as w:
                self.powercap.add_energy("intel-rapl:0", 10.0)
                self.powercap.add_energy("intel-rapl:0:0", 2.0)
        epoch = w.report
        self.assertEqual(epoch.name, "epoch 1")
        self.assertAlmostEqual(epoch.domain(PACKAGE).joules, 10.0, places=6)
        self.assertAlmostEqual(epoch[DRAM].joules, 2.0, places=6)
        # DRAM is not inside the package (Intel SDM): both are added.
        self.assertAlmostEqual(epoch.total_joules, 12.0, places=6)
        self.assertEqual(sorted(epoch.total_domains), [PACKAGE, DRAM])
        report = m.report()
        self.assertEqual(report.status, "complete")
        self.assertAlmostEqual(report.domain(PACKAGE).joules, 15.0, places=6)
        self.assertAlmostEqual(report.window("epoch 1").total_joules, 12.0, places=6)
        self.assertEqual(epoch.domain(PACKAGE).provenance_kind, "measured")
        self.assertIn("powercap", epoch.domain(PACKAGE).provenance)
        self.assertIsNone(epoch.attributable_joules)  # no baseline was measured

    def test_windows_nest_and_overlap(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            with m.window("outer") as outer:
                a = m.begin_window("a")
                self.powercap.add_energy("intel-rapl:0", 1.0)
                b = m.begin_window("b")
                self.powercap.add_energy("intel-rapl:0", 2.0)
                a.end()
                self.powercap.add_energy("intel-rapl:0", 4.0)
                b.end()
            self.powercap.add_energy("intel-rapl:0", 8.0)
        self.assertAlmostEqual(a.report.domain(PACKAGE).joules, 3.0, places=6)
        self.assertAlmostEqual(b.report.domain(PACKAGE).joules, 6.0, places=6)
        self.assertAlmostEqual(outer.report.domain(PACKAGE).joules, 7.0, places=6)
        report = m.report()
        self.assertEqual([w.name for w in report.windows], ["a", "b", "outer"])
        self.assertAlmostEqual(report.domain(PACKAGE).joules, 15.0, places=6)

    def test_count_gives_energy_per_unit_of_work_in_every_open_window(self):
        with joulebench.Meter(unit="sample", **self.machine.meter_args()) as m:
            m.count(2)  # before the window: the meter's, not the window's
            with m.window("batch") as w:
                self.powercap.add_energy("intel-rapl:0", 8.0)
                w.count(3)
                m.count()
        self.assertEqual(w.report.work, 4)
        self.assertAlmostEqual(w.report.joules_per_work, 2.0, places=6)
        self.assertIn("work: 4 sample; 2.000 J per sample (measured)", str(w.report))
        report = m.report()
        self.assertEqual(report.work, 6)
        self.assertEqual(report.work_unit, "sample")
        self.assertAlmostEqual(report.joules_per_work, 8.0 / 6, places=6)

    def test_baseline_gives_attributable_energy_and_releases_the_gil(self):
        m = joulebench.Meter(baseline="1.5s", **self.machine.meter_args())
        added = threading.Event()

        def idle_load():
            # Runs while the main thread is in the baseline: only possible without the GIL.
            # running turns true as start() begins; the baseline window opens a moment later.
            if wait_until(lambda: m.running):
                time.sleep(0.3)
                self.powercap.add_energy("intel-rapl:0", 3.0)
                added.set()

        thread = threading.Thread(target=idle_load)
        thread.start()
        with m:
            self.assertTrue(added.is_set(), "the thread did not run during the baseline")
            with m.window("work") as w:
                self.powercap.add_energy("intel-rapl:0", 20.0)
                time.sleep(0.05)
        thread.join()
        report = m.report()
        baseline = report.baseline
        self.assertIsNotNone(baseline)
        self.assertAlmostEqual(baseline.domain(PACKAGE).joules, 3.0, places=6)
        idle_watts = 3.0 / baseline.duration_s
        window = w.report.domain(PACKAGE)
        self.assertAlmostEqual(window.baseline_watts, idle_watts, places=6)
        self.assertAlmostEqual(window.attributable_joules,
                               20.0 - idle_watts * w.report.duration_s, places=6)
        self.assertAlmostEqual(w.report.attributable_joules,
                               sum(d.attributable_joules for d in w.report.domains), places=6)
        self.assertIn("attributable", str(w.report))
        self.assertIn("baseline", str(report))

    def test_report_prints_the_sources_and_the_measure_table(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            with m.window("epoch 1"):
                self.powercap.add_energy("intel-rapl:0", 1.5)
        text = str(m.report())
        self.assertIn("sources:\n  powercap: 2 domain(s)\n", text)
        self.assertIn("  model: skipped", text)
        for line in ("measurement: ", "epoch 1: "):
            self.assertIn(line, text)
        package_line = next(l for l in str(m.report().window("epoch 1")).splitlines()
                            if l.strip().startswith(PACKAGE))
        self.assertIn("1.500 J", package_line)
        self.assertIn("measured: powercap RAPL", package_line)

    def test_to_dict_and_to_json_hold_every_domain(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            with m.window("w"):
                self.powercap.add_energy("intel-rapl:0:0", 0.25)
        report = m.report()
        data = report.to_dict()
        self.assertEqual(json.loads(report.to_json()), data)
        window = data["windows"][0]
        dram = next(d for d in window["domains"] if d["name"] == DRAM)
        self.assertAlmostEqual(dram["joules"], 0.25, places=6)
        self.assertEqual(dram["provenance"]["kind"], "measured")
        self.assertEqual(data["status"], "complete")
        self.assertEqual(report.window("w").to_dict()["name"], "w")

    def test_live_report_while_running_and_final_after(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            self.powercap.add_energy("intel-rapl:0", 4.0)
            time.sleep(0.05)  # a few samples of 5 ms
            live = m.report()
            self.assertEqual(live.status, "running")
            self.assertTrue(m.running)
        self.assertAlmostEqual(live.domain(PACKAGE).joules, 4.0, places=6)
        self.assertFalse(m.running)
        self.assertIs(m.report(), m.report())
        timeline = m.timeline()
        self.assertEqual(timeline["domains"], [PACKAGE, DRAM])
        self.assertEqual(len(timeline["time_s"]), len(timeline["joules"][0]))
        self.assertAlmostEqual(timeline["joules"][0][-1], 4.0, places=6)

    def test_timeline_lists_a_gap_and_does_not_interpolate_it(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            self.powercap.add_energy("intel-rapl:0", 1.0)
            time.sleep(0.03)
            before = self.powercap.energy_uj("intel-rapl:0")
            self.powercap.set_raw("intel-rapl:0", "garbage\n")
            time.sleep(0.05)  # failed reads every 5 ms
            self.powercap.set_energy_uj("intel-rapl:0", before + 3_000_000)
            time.sleep(0.03)
        timeline = m.timeline()
        gaps = [g for g in timeline["gaps"] if g["domain"] == PACKAGE]
        self.assertEqual(len(gaps), 1, timeline["gaps"])
        gap = gaps[0]
        self.assertLess(gap["begin_s"], gap["end_s"])
        self.assertFalse(gap["open"])
        self.assertTrue(gap["reason"].startswith("read failed"), gap["reason"])
        # No sample inside the gap carries an interpolated value: the series is flat there.
        package = timeline["joules"][0]
        inside = [j for t, j in zip(timeline["time_s"], package) if gap["begin_s"] < t < gap["end_s"]]
        self.assertTrue(all(j == inside[0] for j in inside), inside)

    def test_window_left_open_ends_with_the_meter_and_says_so(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            m.begin_window("forgotten")
            self.powercap.add_energy("intel-rapl:0", 1.0)
        report = m.report()
        self.assertAlmostEqual(report.window("forgotten").total_joules, 1.0, places=6)
        self.assertTrue(any("'forgotten' was still open" in w for w in report.warnings))

    def test_meter_decorator_makes_each_call_a_window(self):
        with joulebench.Meter(**self.machine.meter_args()) as m:
            @m.measure
            def step(joules):
                self.powercap.add_energy("intel-rapl:0", joules)
                return joules * 2

            self.assertEqual(step(1.0), 2.0)
            self.assertEqual(step(3.0), 6.0)
        windows = [w for w in m.report().windows if w.name.endswith("step")]
        self.assertEqual([round(w.total_joules, 6) for w in windows], [1.0, 3.0])

    def test_exception_in_the_block_propagates_and_ends_the_run_incomplete(self):
        m = joulebench.Meter(**self.machine.meter_args())
        with self.assertRaises(ZeroDivisionError):
            with m:
                self.powercap.add_energy("intel-rapl:0", 2.0)
                1 / 0
        report = m.report()
        self.assertEqual(report.status, "incomplete")
        self.assertAlmostEqual(report.total_joules, 2.0, places=6)
        self.assertTrue(any("raised ZeroDivisionError: division by zero" in w
                            for w in report.warnings), report.warnings)


class DecoratorTest(unittest.TestCase):
    def setUp(self):
        self.machine = FakeMachine()

    def tearDown(self):
        self.machine.cleanup()

    def test_each_call_is_measured_and_returns_the_result(self):
        seen = []
        powercap = self.machine.powercap

        @joulebench.measure(on_report=seen.append, **self.machine.meter_args())
        def train(joules):
            powercap.add_energy("intel-rapl:0", joules)
            return "done"

        self.assertIsNone(train.last_report)
        self.assertEqual(train(3.0), "done")
        self.assertAlmostEqual(train.last_report.total_joules, 3.0, places=6)
        self.assertEqual(train(5.0), "done")
        self.assertAlmostEqual(train.last_report.total_joules, 5.0, places=6)
        self.assertEqual([round(r.total_joules, 6) for r in seen], [3.0, 5.0])
        self.assertEqual(train.__name__, "train")

    def test_bare_decorator_uses_the_default_sources(self):
        @joulebench.measure
        def nothing():
            return 7

        self.assertEqual(nothing(), 7)
        self.assertEqual(nothing.last_report.status, "complete")
        self.assertGreater(len(nothing.last_report.sources), 0)


class ProbeTest(unittest.TestCase):
    def test_probe_finds_the_fake_package_and_says_why_others_are_missing(self):
        machine = FakeMachine()
        try:
            p = joulebench.probe(sysfs_root=machine.sys, procfs_root=machine.proc,
                                 disable=["nvml"])
        finally:
            machine.cleanup()
        powercap = p.source("powercap")
        self.assertEqual(powercap["status"], "available")
        self.assertEqual([d["name"] for d in powercap["domains"]], [PACKAGE, DRAM])
        self.assertEqual(p.source("nvml")["status"], "skipped")
        self.assertIn("powercap", str(p))


if __name__ == "__main__":
    unittest.main()
