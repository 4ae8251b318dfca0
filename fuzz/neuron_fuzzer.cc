// The Neuron driver's stats/power/utilization file ("<status>,<unix time>,<min>,<max>,<avg>"):
// parsed on every sample and described by `probe`. A reading is valid only with percentages
// of the device's maximum power that are numbers >= 0, and its description must be printable.
#include <cstdint>
#include <string>

#include "energy/neuron_source.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  namespace energy = joulebench::energy;
  using Status = energy::NeuronPowerUtilization::Status;
  const auto u = energy::ParseNeuronPowerUtilization(joulebench::fuzz::AsText(data, size));
  if (u.status == Status::kValid) {
    for (double percent : {u.min_percent, u.max_percent, u.avg_percent}) {
      joulebench::fuzz::CheckFinite(percent, "percentage");
      Check(percent >= 0, "negative percentage");
    }
  }
  const std::string text = energy::DescribeNeuronPowerUtilization(0, u);
  joulebench::fuzz::CheckStorable(text, "description");
  Check(text.find("nan") == std::string::npos && text.find("inf") == std::string::npos,
        "description with a non-number: " + text);
  return 0;
}
