// plan(kind, ...): `joulebench plan infer` / `plan train` from the same settings, through the
// library's plan::PlanInferenceFromSettings / PlanTrainingFromSettings. Returns the plan as
// (JSON text, table text, CSV text).
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bindings.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/plan_report.h"
#include "joulebench/plan/plan_settings.h"
#include "joulebench/run/run_record.h"
#include "joulebench/store/plan_run_lookup.h"

namespace joulebench::python {
namespace {

// A candidate is a spec string ("name=inf1.2xlarge,throughput=54/s") or a dict of the same keys.
plan::CandidateSpec CandidateFrom(const py::handle& candidate, std::size_t index) {
  const std::string origin = fmt::format("candidates[{}]", index);
  if (py::isinstance<py::str>(candidate)) {
    return plan::ParseCandidateSpec(candidate.cast<std::string>(), origin);
  }
  if (py::isinstance<py::dict>(candidate)) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& [key, value] : candidate.cast<py::dict>()) {
      fields.emplace_back(py::str(key).cast<std::string>(), py::str(value).cast<std::string>());
    }
    return plan::CandidateSpecFromFields(std::move(fields), origin);
  }
  throw InputError(fmt::format(
      "{}: give a candidate as a dict (name=..., throughput=...) or a spec string "
      "\"name=...,throughput=...\", not a {}",
      origin, py::str(py::type::handle_of(candidate).attr("__name__")).cast<std::string>()));
}

std::tuple<std::string, std::string, std::string> Plan(
    const std::string& kind, const std::vector<std::pair<std::string, std::string>>& settings,
    const py::list& candidates, const std::vector<std::string>& catalogs, const std::string& config,
    const std::optional<std::string>& db) {
  if (kind != "infer" && kind != "train") {
    throw InputError(fmt::format("plan: kind '{}' is not \"infer\" or \"train\"", kind));
  }
  const auto& known =
      kind == "infer" ? plan::InferenceSettingNames() : plan::TrainingSettingNames();
  plan::PlanSettings s;
  for (const auto& [name, value] : settings) {
    if (std::find(known.begin(), known.end(), name) == known.end() || name == "catalog") {
      std::string names;
      for (const auto& k : known) {
        if (k != "catalog") names += (names.empty() ? "" : ", ") + k;
      }
      throw InputError(
          fmt::format("plan {}: unknown setting '{}'; known: {} (with - or _)", kind, name, names));
    }
    // Given figures cite where they were given: "given: plan(pue=)".
    std::string keyword = name;
    std::replace(keyword.begin(), keyword.end(), '-', '_');
    s.Set(name, value, fmt::format("plan({}=)", keyword));
  }
  std::size_t index = 0;
  for (const auto& c : candidates) s.candidates.push_back(CandidateFrom(c, index++));
  s.catalogs = catalogs;
  s.config = config;
  py::gil_scoped_release release;
  store::RegisterPlanRunLookup(db);
  if (kind == "infer") {
    const auto p = plan::PlanInferenceFromSettings(std::move(s));
    return {run::DumpJson(plan::ToJson(p)), plan::RenderTable(p), plan::ToCsv(p)};
  }
  const auto outcome = plan::PlanTrainingFromSettings(std::move(s));
  return {run::DumpJson(plan::ToJson(outcome.plan, outcome.prediction)),
          plan::RenderTable(outcome.plan, outcome.prediction), plan::ToCsv(outcome.plan)};
}

}  // namespace

void BindPlan(py::module_& m) {
  m.def("plan", &Plan, py::arg("kind"), py::arg("settings"), py::arg("candidates"),
        py::arg("catalogs"), py::arg("config"), py::arg("db"));
}

}  // namespace joulebench::python
