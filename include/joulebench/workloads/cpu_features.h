// What this CPU's instruction set offers the libtorch workloads, read from /proc/cpuinfo's
// flags, so that `tune` searches only knobs that can help here.
#pragma once

#include <filesystem>
#include <set>
#include <string>

namespace joulebench::workloads {

// The "flags" of the first processor in <procfs_root>/cpuinfo (x86); empty when unreadable
// or absent (other architectures).
std::set<std::string> CpuFlags(const std::filesystem::path& procfs_root = "/proc");

// Whether bf16 can speed the CPU up: libtorch's oneDNN runs bf16 products natively with
// AVX512_BF16 (flag avx512_bf16) or AMX (amx_bf16); without them it converts to fp32 and back,
// which is slower than fp32. Returns "" when bf16 is native, else the reason it is not.
std::string CpuBf16Unsupported(const std::set<std::string>& flags);

}  // namespace joulebench::workloads
