// A modelled power curve for a catalog machine that has no published one, from Cloud Carbon
// Footprint's coefficients (data/cpu_coefficients_ccf.csv, data/constants.csv) and the
// accelerators' published idle and full-load power (data/gpu_power.csv):
//
//   P(load) = vCPUs x (min + load x (max - min))           per-vCPU watts of the CPU family
//           + memory GiB x memory W/GB                        (CCF: 0.392 W per GB)
//           + accelerators x (idle + load x (full - idle))    per accelerator
//
// CCF's load is CPU utilisation; the planner takes it as the fraction of peak throughput, and
// the curve's provenance says so. A machine whose CPU family or accelerator power is unknown
// gets no model (the reason says which part is missing), never a partial one.
#pragma once

#include <optional>
#include <string>

#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/power_curve.h"

namespace joulebench::plan {

// The curve has kind kModelled. Returns nullopt and sets *why_not when a part is unknown.
std::optional<PowerCurve> ModelledPowerCurve(const MachineType& machine,
                                             const energy::CcfCoefficients& ccf,
                                             std::string* why_not);

}  // namespace joulebench::plan
