// The power limit of one NVIDIA GPU through NVML (what `nvidia-smi -pl` sets), for `tune`:
// read the limit and its allowed range, set it where permitted, and put the original back.
//
//   auto limit = joulebench::energy::GpuPowerLimit::Open(options, 0);  // EnvironmentError: why not
//   limit->Set(250);   // watts
//   ...
//   limit->Restore();  // also in the destructor
#pragma once

#include <memory>
#include <string>

#include "joulebench/energy/source.h"

namespace joulebench::energy {

class GpuPowerLimit {
 public:
  // Loads NVML (options.nvml_library), opens GPU `index`, reads its configured limit and the
  // allowed range, and checks that the limit may be set by setting the current value again.
  // Throws EnvironmentError saying why the limit cannot be tuned: no NVML or no such GPU, the
  // GPU does not support it, or NVML_ERROR_NO_PERMISSION (setting it needs root).
  static std::unique_ptr<GpuPowerLimit> Open(const SourceOptions& options, unsigned int index);
  ~GpuPowerLimit();  // Restore(), errors ignored
  GpuPowerLimit(const GpuPowerLimit&) = delete;
  GpuPowerLimit& operator=(const GpuPowerLimit&) = delete;

  const std::string& gpu() const;  // "gpu0 (NVIDIA H100 80GB HBM3)"
  double original_watts() const;   // the limit when Open ran
  double min_watts() const;
  double max_watts() const;
  double current_watts() const;  // the limit last set (original until then)

  // InputError outside [min_watts, max_watts]; EnvironmentError when NVML refuses.
  void Set(double watts);
  // Puts the original limit back (nothing to do when it was never changed); EnvironmentError
  // when NVML refuses, naming the nvidia-smi command that does it by hand.
  void Restore();

 private:
  struct Impl;
  explicit GpuPowerLimit(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::energy
