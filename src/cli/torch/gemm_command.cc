// joulebench gemm [--device D] [--dtype T] [--threads N] [--size N] [--duration D] [--json]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/command.h"
#include "joulebench/units.h"
#include "joulebench/workloads/gemm_peak.h"

namespace joulebench::cli {
namespace {

struct GemmFlags {
  std::string device = "cpu";
  std::string dtype = "fp32";
  int threads = 1;
  std::int64_t size = 0;
  std::string duration = "3s";
  std::string linear_kernel = "auto";
  bool json = false;
};

int Run(const GemmFlags& f) {
  workloads::GemmPeakOptions o;
  o.torch.device = f.device;
  o.torch.dtype = workloads::ParseComputeDtype(f.dtype);
  o.torch.threads = f.threads;
  o.torch.linear_kernel = workloads::ParseLinearKernel(f.linear_kernel);
  o.size = f.size;
  o.duration = ParseDuration(f.duration, "--duration");
  const workloads::GemmPeak p = workloads::MeasureGemmPeak(o);
  std::string out;
  if (f.json) {
    out = nlohmann::json{{"flops_per_s", p.flops_per_s},
                         {"best_flops_per_s", p.best_flops_per_s},
                         {"size", p.size},
                         {"products", p.products},
                         {"duration_s", p.duration_s},
                         {"device", p.device},
                         {"dtype", std::string(workloads::ComputeDtypeName(p.dtype))},
                         {"threads", p.threads},
                         {"kernel", std::string(workloads::LinearKernelName(p.kernel))},
                         {"libtorch", workloads::TorchVersion()}}
              .dump(2) +
          "\n";
  } else {
    out = fmt::format(
        "GEMM peak: {:.1f} GFLOP/s mean, {:.1f} GFLOP/s best ({} x {} products, {}, {}, {} "
        "thread(s), {} in {}; measured by libtorch {}, {})\n",
        p.flops_per_s / 1e9, p.best_flops_per_s / 1e9, p.size, p.size, p.device,
        workloads::ComputeDtypeName(p.dtype), p.threads, p.products, FormatDuration(p.duration_s),
        workloads::TorchVersion(), workloads::LinearKernelDescription(p.kernel));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

const CommandRegistration kGemm{{
    "gemm",
    "Measure this machine's matrix-multiply peak with libtorch (what infer and train compare "
    "their FLOP/s with)",
    [](CLI::App& app) -> std::function<int()> {
      auto f = std::make_shared<GemmFlags>();
      app.add_option("--device", f->device, "cpu | cuda | cuda:N (default cpu)");
      app.add_option("--dtype", f->dtype, "fp32 | bf16 (default fp32)");
      app.add_option("--threads", f->threads, "libtorch intra-op threads (default 1)");
      app.add_option("--size", f->size, "n of the n x n products (default 2048 CPU, 8192 GPU)");
      app.add_option("--duration", f->duration, "Timed part (default 3s)");
      app.add_option("--linear-kernel", f->linear_kernel,
                     "auto | blas | onednn: the kernel measured (default auto, as the models)");
      app.add_flag("--json", f->json, "Print JSON");
      return [f] { return Run(*f); };
    },
    42,
}};

}  // namespace
}  // namespace joulebench::cli
