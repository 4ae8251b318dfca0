"""Every error is a Python exception of the right class with the CLI's one-line message."""

import os
import unittest

import joulebench
from support import FakeMachine, run_cli


def cli_error_line(*args: str) -> str:
    """The message of `joulebench ARGS` after "joulebench: error: "."""
    r = run_cli(*args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode in (2, 3), (r.returncode, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("joulebench: error: "), r.stderr
    return lines[0][len("joulebench: error: "):]


class ErrorTest(unittest.TestCase):
    def setUp(self):
        self.machine = FakeMachine()

    def tearDown(self):
        self.machine.cleanup()

    def test_classes_derive_from_the_python_ones(self):
        self.assertTrue(issubclass(joulebench.InputError, joulebench.Error))
        self.assertTrue(issubclass(joulebench.InputError, ValueError))
        self.assertTrue(issubclass(joulebench.EnvironmentError, OSError))
        self.assertTrue(issubclass(joulebench.RuntimeError, RuntimeError))
        self.assertEqual(joulebench.InputError.__module__, "joulebench")

    def test_missing_sysfs_root_is_an_input_error_worded_as_the_cli(self):
        missing = os.path.join(self.machine.path, "no-such-dir")
        with self.assertRaises(joulebench.InputError) as caught:
            joulebench.Meter(sysfs_root=missing)
        self.assertEqual(str(caught.exception),
                         cli_error_line("measure", "--sysfs-root", missing, "--", "true"))

    def test_unknown_source_to_disable_is_an_input_error_worded_as_the_cli(self):
        with self.assertRaises(ValueError) as caught:
            joulebench.Meter(disable=["rapl"])
        self.assertEqual(str(caught.exception),
                         cli_error_line("measure", "--disable", "rapl", "--", "true"))

    def test_bad_intervals_are_input_errors_worded_as_the_cli(self):
        for interval in ("0", "5", "abc", "2h"):
            with self.subTest(interval=interval):
                with self.assertRaises(joulebench.InputError) as caught:
                    joulebench.Meter(interval=interval, **self._sources())
                self.assertEqual(str(caught.exception),
                                 cli_error_line("measure", "--interval", interval, "--", "true"))
        with self.assertRaises(joulebench.InputError):
            joulebench.Meter(interval=0, **self._sources())  # seconds, as a number

    def test_database_in_a_missing_directory_fails_before_measuring(self):
        db = os.path.join(self.machine.path, "missing", "runs.db")
        with self.assertRaises(joulebench.Error) as caught:
            joulebench.Meter(store=True, db=db, **self._sources())
        expected = cli_error_line("measure", "--db", db, *self.machine.cli_source_flags(), "--",
                                  "true")
        self.assertEqual(str(caught.exception), expected)

    def test_misuse_of_windows_and_count_is_an_input_error(self):
        m = joulebench.Meter(**self.machine.meter_args())
        with self.assertRaises(joulebench.InputError) as caught:
            m.window("too early").begin()
        self.assertIn("the meter is not measuring", str(caught.exception))
        with m:
            with self.assertRaises(joulebench.InputError) as caught:
                m.window("measurement").begin()
            self.assertIn("window name 'measurement' is the meter's own", str(caught.exception))
            for bad in (-1, float("nan"), float("inf"), "3", None):
                with self.assertRaises(joulebench.InputError):
                    m.count(bad)
            w = m.begin_window("once")
            w.end()
            with self.assertRaises(joulebench.InputError):
                w.begin()
        with self.assertRaises(joulebench.InputError) as caught:
            m.start()
        self.assertIn("already started", str(caught.exception))

    def test_empty_unit_is_an_input_error(self):
        with self.assertRaises(joulebench.InputError) as caught:
            joulebench.Meter(unit="", **self.machine.meter_args())
        self.assertIn("unit: empty", str(caught.exception))

    def _sources(self):
        return dict(sysfs_root=self.machine.sys, procfs_root=self.machine.proc,
                    disable=["nvml", "neuron", "model"])


if __name__ == "__main__":
    unittest.main()
