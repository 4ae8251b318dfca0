#include "joulebench/plan/run_resolver.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

struct LookupSlot {
  std::mutex mutex;
  RunLookup lookup;
};

LookupSlot& Slot() {
  static LookupSlot slot;
  return slot;
}

}  // namespace

void RegisterRunLookup(RunLookup lookup) {
  std::lock_guard lock(Slot().mutex);
  Slot().lookup = std::move(lookup);
}

ResolvedRun ReadRunFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("run '{}': cannot be read; check the path", path));
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("run '{}': not valid JSON ({}); give the --json output of an "
                                 "infer or train run",
                                 path, e.what()));
  }
  ResolvedRun resolved;
  try {
    resolved.record = run::RunRecordFromJson(json);
  } catch (const InputError& e) {
    throw InputError(fmt::format("run '{}': {}", path, e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("run '{}': not a joulebench run record ({})", path, e.what()));
  }
  resolved.label = resolved.record.id.empty()
                       ? fmt::format("run {}", path)
                       : fmt::format("run {} ({})", resolved.record.id, path);
  return resolved;
}

ResolvedRun DefaultRunResolver::Resolve(std::string_view reference) const {
  const std::string ref(reference);
  std::error_code ec;
  if (std::filesystem::is_regular_file(ref, ec)) return ReadRunFile(ref);
  RunLookup lookup;
  {
    std::lock_guard lock(Slot().mutex);
    lookup = Slot().lookup;
  }
  if (lookup) {
    if (auto record = lookup(reference)) {
      ResolvedRun resolved{std::move(*record), fmt::format("stored run {}", ref)};
      return resolved;
    }
    throw InputError(fmt::format("run '{}': no such file and no stored run with that id; list "
                                 "stored runs with 'joulebench runs'",
                                 ref));
  }
  throw InputError(fmt::format(
      "run '{}': no such file; give the path of a run's --json output (e.g. infer --json > "
      "run.json)",
      ref));
}

}  // namespace joulebench::plan
