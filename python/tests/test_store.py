"""store=True: the Meter writes the same kind of run as `joulebench measure`, read back by the
CLI (`runs show`), including runs that were interrupted."""

import json
import os
import signal
import sqlite3
import sys
import threading
import time
import unittest

import joulebench
from support import (FakeMachine, energy_window, metric, run_cli, stored_run, wait_until)

PACKAGE = "rapl/package-0"


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.machine = FakeMachine()
        self.powercap = self.machine.powercap
        self.db = self.machine.db

    def tearDown(self):
        self.machine.cleanup()

    def test_stored_run_is_a_measure_run_the_cli_shows(self):
        with joulebench.Meter(store=True, db=self.db, name="py epoch",
                              **self.machine.meter_args()) as m:
            with m.window("epoch 1"):
                self.powercap.add_energy("intel-rapl:0", 6.0)
                m.count(3)
        report = m.report()
        self.assertIsNotNone(m.run_id)
        self.assertEqual(report.run_id, m.run_id)
        self.assertIn(f"stored as run {m.run_id} in {self.db}", str(report))

        run = stored_run(self.db, m.run_id)
        self.assertEqual(run["kind"], "measure")
        self.assertEqual(run["name"], "py epoch")
        self.assertEqual(run["status"], "complete")
        self.assertAlmostEqual(metric(run, "energy")["value"], report.total_joules, places=9)
        self.assertAlmostEqual(metric(run, "work")["value"], 3)
        self.assertEqual(metric(run, "work")["unit"], "step")
        self.assertAlmostEqual(metric(run, "energy_per_work")["value"], 2.0, places=6)
        epoch = energy_window(run, "epoch 1")
        package = next(d for d in epoch["domains"] if d["domain"]["name"] == PACKAGE)
        self.assertAlmostEqual(package["joules"], 6.0, places=6)
        self.assertGreater(len(run["timeline"]["time_s"]), 0)
        self.assertEqual(run["fingerprint"]["python"], sys.version.split()[0])
        self.assertEqual(run["config"]["interface"], "python")

        # The same shape as a run of `joulebench measure` in the same database.
        cli = run_cli("measure", *self.machine.cli_source_flags(), "--db", self.db, "--", "true")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        cli_id = cli.stderr.split("stored as run ")[1].split()[0]
        cli_run = stored_run(self.db, cli_id)
        self.assertEqual(cli_run["kind"], run["kind"])
        for key in ("workload", "interval_s", "command"):
            self.assertIn(key, run["config"])
            self.assertIn(key, cli_run["config"])
        cli_metrics = {m["name"] for m in cli_run["metrics"]}
        self.assertLessEqual(cli_metrics, {m["name"] for m in run["metrics"]})
        self.assertEqual([e["name"] for e in cli_run["energy"]], ["measurement"])
        self.assertEqual([e["name"] for e in run["energy"]], ["measurement", "epoch 1"])

        shown = run_cli("runs", "show", m.run_id, "--db", self.db)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn('Energy: window "epoch 1"', shown.stdout)
        listed = run_cli("runs", "list", "--db", self.db)
        self.assertIn("py epoch", listed.stdout)

    def test_exception_stores_the_run_as_incomplete_with_what_it_measured(self):
        m = joulebench.Meter(store=True, db=self.db, **self.machine.meter_args())
        with self.assertRaises(RuntimeError):
            with m:
                self.powercap.add_energy("intel-rapl:0", 4.0)
                raise RuntimeError("out of memory")
        run = stored_run(self.db, m.run_id)
        self.assertEqual(run["status"], "incomplete")
        self.assertAlmostEqual(metric(run, "energy")["value"], 4.0, places=6)
        self.assertIn("the measured code raised RuntimeError: out of memory", run["warnings"])

    def test_ctrl_c_during_the_baseline_stores_an_incomplete_run(self):
        m = joulebench.Meter(store=True, db=self.db, baseline="30s", **self.machine.meter_args())

        def interrupt():
            if wait_until(lambda: m.running):
                time.sleep(0.2)
                os.kill(os.getpid(), signal.SIGINT)

        thread = threading.Thread(target=interrupt)
        thread.start()
        started = time.monotonic()
        with self.assertRaises(KeyboardInterrupt):
            m.start()
        thread.join()
        self.assertLess(time.monotonic() - started, 20, "Ctrl-C did not stop the baseline")
        self.assertFalse(m.running)
        run = stored_run(self.db, m.run_id)
        self.assertEqual(run["status"], "incomplete")
        self.assertEqual([e["name"] for e in run["energy"]], ["baseline"])
        self.assertTrue(any("interrupted during the idle baseline" in w for w in run["warnings"]))

    def test_windows_reach_the_store_while_the_meter_runs(self):
        with joulebench.Meter(store=True, db=self.db, **self.machine.meter_args()) as m:
            with m.window("first"):
                self.powercap.add_energy("intel-rapl:0", 1.0)
            # What another process reads now: the run is running and its first window stored
            # (what a killed process leaves behind).
            listed = json.loads(run_cli("runs", "list", "--db", self.db, "--json").stdout)
            self.assertEqual(listed[0]["status"], "running")
            with sqlite3.connect(self.db) as db:
                names = [row[0] for row in db.execute(
                    "SELECT name FROM energy_reports WHERE run_id = ? ORDER BY seq",
                    (int(m.run_id),))]
            self.assertIn("first", names)
        self.assertEqual(stored_run(self.db, m.run_id)["status"], "complete")

if __name__ == "__main__":
    unittest.main()
