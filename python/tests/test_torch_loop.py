"""A real PyTorch training loop (Debian's python3-torch) measured by a window, on this machine's
own sensors (or, where none can be read, the labelled model)."""

import os
import sys
import tempfile
import unittest

import torch

import joulebench
from support import stored_run

STEPS = 30


class TorchLoopTest(unittest.TestCase):
    def test_training_steps_in_a_window_have_energy_and_are_counted(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 1))
        optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
        x = torch.randn(256, 64)
        y = x[:, :1] * 3.0 - x[:, 1:2]
        losses = []
        with joulebench.Meter(interval="10ms") as m:
            with m.window("train") as w:
                for _ in range(STEPS):
                    optimiser.zero_grad()
                    loss = torch.nn.functional.mse_loss(model(x), y)
                    loss.backward()
                    optimiser.step()
                    losses.append(loss.item())
                    m.count()
        self.assertLess(losses[-1], losses[0])  # the loop really trained
        report = w.report
        self.assertEqual(report.work, STEPS)
        self.assertGreater(report.total_joules, 0, str(m.report()))
        self.assertAlmostEqual(report.joules_per_work, report.total_joules / STEPS, places=9)
        # Every number says where it comes from.
        for domain in report.domains:
            self.assertIn(domain.provenance_kind, ("measured", "modelled"), domain)
            self.assertTrue(domain.provenance_by)
        self.assertEqual(report.any_modelled,
                         any(d.provenance_kind == "modelled" and d.in_total for d in report.domains))
        self.assertIn(f"work: {STEPS} step", str(report))

    def test_stored_run_records_the_torch_and_python_versions(self):
        with tempfile.TemporaryDirectory() as tmp:
            db = os.path.join(tmp, "runs.db")
            with joulebench.Meter(store=True, db=db, interval="10ms") as m:
                torch.ones(8).sum()
            run = stored_run(db, m.run_id)
        self.assertEqual(run["fingerprint"]["libtorch"], torch.__version__)
        self.assertEqual(run["fingerprint"]["python"], sys.version.split()[0])


if __name__ == "__main__":
    unittest.main()
