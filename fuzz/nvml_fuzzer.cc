// Replies of the NVIDIA driver's NVML library: return codes, GPU count, names, UUIDs, driver
// version, architecture, power limit, energy counter and power gauge, as a driver (or a broken
// one) could give them. The fuzz input scripts an NVML made of the functions below, which the
// probe and the sampler call through the same function pointers as the real libnvidia-ml.
// Whatever NVML answers, the probe must finish, every text it keeps must be storable, and every
// reading must be a finite, non-negative number or marked not ok.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "energy/nvml_source.h"
#include "fuzz_support.h"

namespace {

namespace energy = joulebench::energy;
namespace nvml = joulebench::energy::nvml;
using joulebench::fuzz::Check;
using joulebench::fuzz::CheckStorable;

// The fuzz input, read a few bytes per NVML call; zeros once it is used up.
struct Script {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  std::uint8_t Byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  template <typename T>
  T Bytes() {
    T value{};
    auto* out = reinterpret_cast<std::uint8_t*>(&value);
    for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = Byte();
    return value;
  }
  // Mostly success; otherwise one of NVML's codes or one it does not document.
  nvml::Return Code() {
    const std::uint8_t b = Byte();
    if (b < 192) return nvml::kSuccess;
    if (b < 224) return b - 192;  // 0..31: the documented codes and a few more
    if (b < 240) return nvml::kErrorUnknown;
    return -static_cast<int>(b);  // codes NVML never returns
  }
  // A string as NVML writes it into a caller's buffer: possibly filling it without a NUL.
  void Text(char* buffer, unsigned int length) {
    const unsigned int n = std::min<unsigned int>(Byte(), length);
    for (unsigned int i = 0; i < n; ++i) buffer[i] = static_cast<char>(Byte());
    if (n < length) buffer[n] = '\0';
  }
};

Script g_script;
char g_error_text[64];

nvml::Return Init() { return g_script.Code(); }
nvml::Return Shutdown() { return nvml::kSuccess; }
const char* ErrorString(nvml::Return) {
  if (g_script.Byte() % 4 == 0) return nullptr;
  g_script.Text(g_error_text, sizeof g_error_text - 1);
  g_error_text[sizeof g_error_text - 1] = '\0';
  return g_error_text;
}
nvml::Return DriverVersion(char* buffer, unsigned int length) {
  const nvml::Return rc = g_script.Code();
  if (rc == nvml::kSuccess) g_script.Text(buffer, length);
  return rc;
}
nvml::Return DeviceCount(unsigned int* count) {
  const nvml::Return rc = g_script.Code();
  // Mostly a few GPUs; sometimes any 32-bit number.
  const std::uint8_t b = g_script.Byte();
  *count = b < 240 ? b % 9 : g_script.Bytes<unsigned int>();
  return rc;
}
nvml::Return DeviceHandle(unsigned int index, nvml::Device* device) {
  *device = reinterpret_cast<nvml::Device>(static_cast<std::uintptr_t>(index) + 1);
  return g_script.Code();
}
nvml::Return DeviceName(nvml::Device, char* buffer, unsigned int length) {
  const nvml::Return rc = g_script.Code();
  if (rc == nvml::kSuccess) g_script.Text(buffer, length);
  return rc;
}
nvml::Return DeviceArchitecture(nvml::Device, nvml::DeviceArchitecture* arch) {
  const nvml::Return rc = g_script.Code();
  *arch = g_script.Bytes<nvml::DeviceArchitecture>();
  return rc;
}
nvml::Return TotalEnergy(nvml::Device, unsigned long long* millijoules) {
  const nvml::Return rc = g_script.Code();
  *millijoules = g_script.Bytes<unsigned long long>();
  return rc;
}
nvml::Return PowerUsage(nvml::Device, unsigned int* milliwatts) {
  const nvml::Return rc = g_script.Code();
  *milliwatts = g_script.Bytes<unsigned int>();
  return rc;
}
nvml::Return PowerLimit(nvml::Device, unsigned int* milliwatts) {
  const nvml::Return rc = g_script.Code();
  *milliwatts = g_script.Bytes<unsigned int>();
  return rc;
}

void CheckProbe(const energy::ProbeResult& result) {
  CheckStorable(result.reason, "reason");
  CheckStorable(result.fix, "fix");
  for (const auto& d : result.details) CheckStorable(d, "detail");
  if (!result.source) return;
  Check(result.status == energy::ProbeStatus::kAvailable, "a source that is not available");
  energy::Source& source = *result.source;
  const auto& domains = source.domains();
  Check(!domains.empty(), "an available source without domains");
  for (const auto& d : domains) {
    CheckStorable(d.name, "domain name");
    CheckStorable(d.provenance.by, "provenance");
    CheckStorable(d.note, "note");
    joulebench::fuzz::CheckFinite(d.max_watts, "max_watts");
  }
  std::vector<energy::Reading> readings(domains.size());
  for (int i = 0; i < 3; ++i) {
    source.Read(readings);
    for (const auto& r : readings) {
      if (!r.ok) continue;
      joulebench::fuzz::CheckFinite(r.value, "reading");
      Check(r.value >= 0, "negative reading");
    }
    for (const auto& w : source.TakeWarnings()) CheckStorable(w, "warning");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_script = Script{data, size};
  auto lib = std::make_unique<energy::NvmlLibrary>();
  const std::uint8_t optional = g_script.Byte();  // which optional functions this NVML has
  lib->init = Init;
  lib->shutdown = Shutdown;
  lib->device_count = DeviceCount;
  lib->device_handle = DeviceHandle;
  lib->power_usage = PowerUsage;
  if (optional & 1) lib->error_string = ErrorString;
  if (optional & 2) lib->driver_version = DriverVersion;
  if (optional & 4) lib->device_name = DeviceName;
  if (optional & 8) lib->device_uuid = DeviceName;
  if (optional & 16) lib->device_architecture = DeviceArchitecture;
  if (optional & 32) lib->total_energy = TotalEnergy;
  if (optional & 64) lib->power_limit = PowerLimit;
  CheckProbe(energy::ProbeNvmlLibrary(std::move(lib), "fuzz-libnvidia-ml.so.1"));
  return 0;
}
