"""`cmake --install build --component python --prefix DIR` gives a package that works from any
directory, with its own copy of the data files."""

import os
import subprocess
import sys
import tempfile
import unittest

from support import BUILD_DIR

CMAKE = os.environ.get("JOULEBENCH_CMAKE", "cmake")

PROGRAM = """
import joulebench, os, sys
assert joulebench.__file__.startswith(sys.argv[1]), joulebench.__file__
data = joulebench._joulebench.data_dir()
assert data == os.path.join(os.path.dirname(joulebench.__file__), "data"), data
study = os.path.join(os.path.dirname(joulebench.__file__), "data", "examples", "study.toml")
p = joulebench.plan("infer", study)
print(p.results("inf1.2xlarge")["instances"], p.results("g4dn.2xlarge")["instances"])
"""


class InstallTest(unittest.TestCase):
    def test_installed_package_imports_and_plans_from_elsewhere(self):
        with tempfile.TemporaryDirectory() as prefix:
            r = subprocess.run([CMAKE, "--install", BUILD_DIR, "--component", "python",
                                "--prefix", prefix], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            site = os.path.join(prefix, "lib", f"python{sys.version_info.major}."
                                f"{sys.version_info.minor}", "dist-packages")
            self.assertTrue(os.path.isfile(os.path.join(site, "joulebench", "data",
                                                        "instances.csv")))
            env = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "JOULEBENCH_DATA_DIR")}
            env["PYTHONPATH"] = site
            r = subprocess.run([sys.executable, "-B", "-c", PROGRAM, site], capture_output=True,
                               text=True, env=env, cwd="/")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.split(), ["6", "33"])


if __name__ == "__main__":
    unittest.main()
