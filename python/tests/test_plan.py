"""joulebench.plan: the planner of `plan infer` / `plan train`, as Python data and the same table."""

import json
import time
import unittest

import joulebench
from support import STUDY, FakeMachine, run_cli


def cli_plan(kind, *args):
    r = run_cli("plan", kind, *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


class PlanTest(unittest.TestCase):
    def test_study_inference_needs_6_inferentia_vs_33_gpu_instances(self):
        p = joulebench.plan("infer", STUDY)
        self.assertEqual(p.results("inf1.2xlarge")["instances"], 6)
        self.assertEqual(p.results("g4dn.2xlarge")["instances"], 33)
        self.assertEqual(p.baseline, "g4dn.2xlarge")
        self.assertAlmostEqual(p.results("inf1.2xlarge")["cost_usd_per_million_inferences"],
                               2.17, delta=0.01)
        self.assertAlmostEqual(p.results("g4dn.2xlarge")["cost_usd_per_million_inferences"],
                               24.82, delta=0.01)
        self.assertEqual(p.to_dict()["schema"], "joulebench.plan.infer/1")
        # The same plan and the same table as the command line's.
        self.assertEqual(p.to_dict(), json.loads(cli_plan("infer", "--config", STUDY, "--json")))
        self.assertEqual(str(p), cli_plan("infer", "--config", STUDY))
        self.assertEqual(p.csv, cli_plan("infer", "--config", STUDY, "--csv"))

    def test_study_training_takes_2_3_h_vs_4_0_h(self):
        p = joulebench.plan("train", config=STUDY)
        self.assertAlmostEqual(p.results("trn1.32xlarge")["time_s"] / 3600, 2.30, delta=0.01)
        self.assertAlmostEqual(p.results("p4d.24xlarge")["time_s"] / 3600, 4.01, delta=0.01)
        self.assertEqual(str(p), cli_plan("train", "--config", STUDY))

    def test_keywords_override_the_file_and_say_where_they_come_from(self):
        base = joulebench.plan("infer", STUDY)
        p = joulebench.plan("infer", STUDY, grid_intensity=100, pue=1.5)
        carbon = p.to_dict()["request"]["carbon"]
        self.assertEqual(carbon["pue"]["value"], 1.5)
        self.assertIn("plan(pue=)", carbon["pue"]["provenance"])
        # Instances do not depend on the grid; CO2e does.
        self.assertEqual(p.results("inf1.2xlarge")["instances"], 6)
        self.assertNotAlmostEqual(p.results("inf1.2xlarge")["co2e_kg_per_hour"],
                                  base.results("inf1.2xlarge")["co2e_kg_per_hour"])

    def test_candidates_as_dicts_and_specs_replace_the_files(self):
        p = joulebench.plan("infer", sla="1000/s", pue=1.1, region="us-east-1", candidates=[
            {"name": "mine", "throughput": "250/s", "power": "300W", "price": "1.5/h",
             "source": "bench on 2026-01-05, 4 workers"},
            "name=g4dn.2xlarge,throughput=100/s",
        ])
        self.assertEqual(p.results("mine")["instances"], 4)
        self.assertEqual(p.results("g4dn.2xlarge")["instances"], 10)
        self.assertEqual(p.baseline, "g4dn.2xlarge")

    def test_missing_sla_is_the_cli_error(self):
        candidates = ["name=a,throughput=1/s,power=1W,price=1/h",
                      "name=b,throughput=2/s,power=1W,price=1/h"]
        with self.assertRaises(joulebench.InputError) as caught:
            joulebench.plan("infer", candidates=candidates)
        r = run_cli("plan", "infer", *sum((["--candidate", c] for c in candidates), []))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.strip(), f"joulebench: error: {caught.exception}")

    def test_candidate_without_throughput_names_the_candidate(self):
        with self.assertRaises(joulebench.InputError) as caught:
            joulebench.plan("infer", sla="10/s", candidates=[
                {"name": "no-figures", "power": "60W", "price": "1/h"},
                {"name": "ok", "throughput": "5/s", "power": "60W", "price": "1/h"}])
        self.assertIn("candidates[0]", str(caught.exception))
        self.assertIn("throughput", str(caught.exception))

    def test_unknown_kind_and_setting_are_input_errors(self):
        with self.assertRaises(joulebench.InputError) as caught:
            joulebench.plan("serve", STUDY)
        self.assertIn("kind 'serve'", str(caught.exception))
        with self.assertRaises(joulebench.InputError) as caught:
            joulebench.plan("infer", STUDY, sequences="450M")
        self.assertIn("unknown setting 'sequences'", str(caught.exception))

    def test_a_stored_meter_run_gives_a_candidates_power(self):
        machine = FakeMachine()
        try:
            with joulebench.Meter(store=True, db=machine.db, **machine.meter_args()) as m:
                machine.powercap.add_energy("intel-rapl:0", 30.0)
                time.sleep(0.1)
            watts = m.report().measurement.mean_watts
            p = joulebench.plan("infer", sla="1000/s", db=machine.db, pue=1.1, candidates=[
                {"name": "this machine", "run": m.run_id, "throughput": "250/s", "price": "1/h"},
                {"name": "given", "throughput": "500/s", "power": "100W", "price": "1/h"}])
        finally:
            machine.cleanup()
        self.assertAlmostEqual(p.results("this machine")["watts_per_instance"], watts, places=6)
        self.assertEqual(p.results("this machine")["instances"], 4)
        self.assertIn(f"stored run {m.run_id}", json.dumps(p.candidate("this machine")["inputs"]))

if __name__ == "__main__":
    unittest.main()
