#include <fmt/format.h>

#include <algorithm>

#include "joulebench/energy/source.h"

namespace joulebench::energy {
namespace {

bool IsDisabled(const SourceOptions& options, std::string_view name) {
  return std::find(options.disabled.begin(), options.disabled.end(), name) !=
         options.disabled.end();
}

ProbeResult Skipped(std::string name, std::string reason) {
  ProbeResult r;
  r.source_name = std::move(name);
  r.status = ProbeStatus::kSkipped;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

std::vector<ProbeResult> ProbeAll(const SourceOptions& options) {
  std::vector<ProbeResult> results;
  const std::string disabled_reason = "disabled by the caller";

  results.push_back(IsDisabled(options, "powercap") ? Skipped("powercap", disabled_reason)
                                                    : ProbePowercap(options));
  const bool powercap_usable = results.back().status == ProbeStatus::kAvailable;
  if (IsDisabled(options, "perf_event")) {
    results.push_back(Skipped("perf_event", disabled_reason));
  } else if (powercap_usable) {
    // Both read the same RAPL hardware counters: using both would count every joule twice.
    results.push_back(
        Skipped("perf_event", "not needed: powercap already reads the same RAPL counters"));
  } else {
    results.push_back(ProbePerfEvent(options));
  }
  results.push_back(IsDisabled(options, "nvml") ? Skipped("nvml", disabled_reason)
                                                : ProbeNvml(options));
  results.push_back(IsDisabled(options, "neuron") ? Skipped("neuron", disabled_reason)
                                                  : ProbeNeuron(options));
  results.push_back(IsDisabled(options, "redfish") ? Skipped("redfish", disabled_reason)
                                                   : ProbeRedfish(options));
  const bool redfish_usable = results.back().status == ProbeStatus::kAvailable;
  if (IsDisabled(options, "ipmi")) {
    results.push_back(Skipped("ipmi", disabled_reason));
  } else if (redfish_usable) {
    // A machine has one BMC: its DCMI reading is the same power Redfish already reads.
    results.push_back(
        Skipped("ipmi",
                "not needed: Redfish already reads the BMC's whole-machine power (--disable "
                "redfish to use IPMI DCMI instead)"));
  } else {
    results.push_back(ProbeIpmi(options));
  }
  if (IsDisabled(options, "model")) {
    results.push_back(Skipped("model", disabled_reason));
  } else {
    std::vector<DomainInfo> measured;
    for (const auto& r : results) {
      if (r.status == ProbeStatus::kAvailable && r.source) {
        const auto& ds = r.source->domains();
        measured.insert(measured.end(), ds.begin(), ds.end());
      }
    }
    results.push_back(ProbeModel(options, measured));
  }
  return results;
}

}  // namespace joulebench::energy
