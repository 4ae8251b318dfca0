#include "joulebench/plan/modelled_power.h"

#include <fmt/format.h>

namespace joulebench::plan {

std::optional<PowerCurve> ModelledPowerCurve(const MachineType& machine,
                                             const energy::CcfCoefficients& ccf,
                                             std::string* why_not) {
  auto fail = [&](std::string reason) -> std::optional<PowerCurve> {
    if (why_not != nullptr) *why_not = std::move(reason);
    return std::nullopt;
  };
  if (machine.vcpus <= 0 || machine.cpu_family.empty()) {
    return fail(fmt::format("{} has no vCPU count or CPU family in the catalog", machine.name));
  }
  const energy::CpuCoefficients* cpu = ccf.FindCpu(machine.cpu_family);
  if (cpu == nullptr) {
    return fail(fmt::format("no CPU coefficients for '{}'", machine.cpu_family));
  }
  const energy::CcfConstant* memory = ccf.FindConstant("memory");
  if (memory == nullptr) return fail("constants.csv has no 'memory' coefficient");
  double idle = machine.vcpus * cpu->min_watts_per_vcpu + machine.memory_gib * memory->value;
  double full = machine.vcpus * cpu->max_watts_per_vcpu + machine.memory_gib * memory->value;
  std::string accelerator_part;
  if (machine.accelerator && machine.accelerator->count > 0) {
    const Accelerator& a = *machine.accelerator;
    if (!a.idle_watts || !a.full_load_watts) {
      return fail(fmt::format("{} power is not published", a.kind));
    }
    idle += a.count * *a.idle_watts;
    full += a.count * *a.full_load_watts;
    accelerator_part =
        fmt::format("; {} x {} {}-{} W", a.count, a.kind, *a.idle_watts, *a.full_load_watts);
  }
  const std::string provenance = fmt::format(
      "modelled: {} (CPU {} {}-{} W/vCPU x {}; memory {} W/GB x {} GiB{}; load taken as CPU "
      "utilisation)",
      energy::CcfCoefficients::kSetName, cpu->microarchitecture, cpu->min_watts_per_vcpu,
      cpu->max_watts_per_vcpu, machine.vcpus, memory->value, machine.memory_gib, accelerator_part);
  return PowerCurve::FromPoints({{0, idle}, {1, full}}, CurveKind::kModelled, provenance);
}

}  // namespace joulebench::plan
