// Planning candidates as users write them (`--candidate k=v,...`, one per line here), resolved
// against the built-in catalog and planned side by side: every figure of a plan must be finite,
// or the plan must refuse its input with InputError.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/error.h"
#include "joulebench/plan/candidate_spec.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/inference_plan.h"
#include "joulebench/plan/training_plan.h"

namespace {

using joulebench::InputError;
using joulebench::fuzz::Check;
using joulebench::fuzz::CheckFinite;
namespace plan = joulebench::plan;

// run=REF would read files or the store: the fuzz target has neither.
class NoRuns final : public plan::RunResolver {
 public:
  plan::ResolvedRun Resolve(std::string_view reference) const override {
    throw InputError("no stored runs in the fuzz target");
  }
};

struct World {
  plan::Catalog catalog = plan::Catalog::LoadDefault();
  joulebench::energy::CcfCoefficients ccf = joulebench::energy::CcfCoefficients::Load();
  NoRuns runs;
  plan::CandidateContext context;
  World() {
    context.catalog = &catalog;
    context.runs = &runs;
    context.ccf = &ccf;
  }
};

const World& TheWorld() {
  static const auto* world = new World();
  return *world;
}

plan::CarbonInputs Carbon() {
  plan::CarbonInputs carbon;
  carbon.region = "fuzz";
  carbon.grid_g_co2e_per_kwh = {379, "given: fuzz"};
  carbon.pue = {1.135, "given: fuzz"};
  return carbon;
}

void CheckInference(const plan::InferencePlan& p) {
  for (const auto& f : p.fleets) {
    Check(f.instances >= 1, "fleet of fewer than one instance");
    CheckFinite(f.load_fraction, "load_fraction");
    CheckFinite(f.fleet_watts, "fleet_watts");
    CheckFinite(f.energy_kwh_per_year, "energy_kwh_per_year");
    CheckFinite(f.joules_per_inference, "joules_per_inference");
    CheckFinite(f.co2e_t_per_year, "co2e_t_per_year");
    if (f.cost_usd_per_hour) CheckFinite(*f.cost_usd_per_hour, "cost_usd_per_hour");
    if (f.cost_usd_per_million) CheckFinite(*f.cost_usd_per_million, "cost_usd_per_million");
  }
}

void CheckTraining(const plan::TrainingPlan& p) {
  for (const auto& r : p.runs) {
    CheckFinite(r.time_s, "time_s");
    CheckFinite(r.energy_kwh, "energy_kwh");
    CheckFinite(r.co2e_kg, "co2e_kg");
    if (r.cost_usd) CheckFinite(*r.cost_usd, "cost_usd");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const World& world = TheWorld();
  std::vector<plan::InferenceCandidate> infer;
  std::vector<plan::TrainingCandidate> train;
  int index = 0;
  for (const auto line : joulebench::fuzz::SplitLines(joulebench::fuzz::AsText(data, size))) {
    plan::CandidateSpec spec;
    try {
      spec = plan::ParseCandidateSpec(line, "--candidate #" + std::to_string(++index));
    } catch (const InputError&) {
      continue;
    }
    Check(!spec.fields.empty(), "a parsed spec without fields");
    try {
      auto c = plan::ResolveInferenceCandidate(spec, world.context);
      CheckFinite(c.throughput_per_s.value, "throughput");
      Check(c.throughput_per_s.value > 0, "throughput <= 0");
      for (double load : {0.0, 0.25, 0.5, 1.0}) CheckFinite(c.power.WattsAt(load), "power");
      if (c.price_usd_per_hour) CheckFinite(c.price_usd_per_hour->value, "price");
      if (c.latency_p99_s) CheckFinite(c.latency_p99_s->value, "latency");
      infer.push_back(std::move(c));
    } catch (const InputError&) {
    }
    try {
      auto c = plan::ResolveTrainingCandidate(spec, world.context);
      CheckFinite(c.sequences_per_s.value, "sequences_per_s");
      CheckFinite(c.watts.value, "watts");
      train.push_back(std::move(c));
    } catch (const InputError&) {
    }
  }
  if (infer.size() >= 2) {
    plan::InferenceRequest request;
    request.rate_per_s = 1e6 / 3600;
    request.latency_bound_s = 0.1;
    request.carbon = Carbon();
    try {
      CheckInference(plan::PlanInference(request, infer));
    } catch (const InputError&) {
    }
  }
  if (train.size() >= 2) {
    plan::TrainingRequest request;
    request.total_sequences = 450e6;
    request.instances = 16;
    request.carbon = Carbon();
    try {
      CheckTraining(plan::PlanTraining(request, train));
    } catch (const InputError&) {
    }
  }
  return 0;
}
