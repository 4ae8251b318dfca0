// A user's TorchScript model (torch.jit.script / torch.jit.trace, saved with .save()) run
// on synthetic inputs made from input specs. Torch-free interface over libtorch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "joulebench/workloads/input_spec.h"
#include "joulebench/workloads/torch_runtime.h"

namespace joulebench::workloads {

class TorchScriptModel {
 public:
  // Loads `path` and makes one synthetic tensor per spec (integers uniform in [0, 100),
  // floats standard normal, bools true; seeded), then runs forward once to check that the
  // inputs fit. InputError: missing file, not TorchScript, no forward, specs that do not
  // match forward's arguments (count or names) or that the model rejects.
  TorchScriptModel(const std::string& path, const std::vector<InputSpec>& inputs,
                   const TorchOptions& options);
  ~TorchScriptModel();
  TorchScriptModel(const TorchScriptModel&) = delete;
  TorchScriptModel& operator=(const TorchScriptModel&) = delete;

  // One forward call on the synthetic inputs; returns once the outputs exist.
  void Run();
  // forward's argument names, without self.
  const std::vector<std::string>& argument_names() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::workloads
