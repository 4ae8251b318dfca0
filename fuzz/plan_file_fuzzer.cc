// TOML plan files (`plan --config FILE`, `study`): the [infer] and [train] sections with their
// settings and [[...candidate]] tables. Anything but a section must be refused with InputError;
// what is read must be text that a report or the store can hold.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "joulebench/error.h"
#include "joulebench/plan/plan_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  using joulebench::fuzz::CheckStorable;
  static const std::vector<std::string> kKnown{
      "sla",        "latency-bound", "utilisation",    "sequences", "instances",
      "efficiency", "region",        "grid-intensity", "pue",       "instance-type",
      "price",      "catalog",       "baseline"};
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  for (const char* section : {"infer", "train"}) {
    try {
      const auto result = joulebench::plan::ParsePlanText(text, "fuzz.toml", section, kKnown);
      for (const auto& [key, value] : result.settings) {
        Check(std::find(kKnown.begin(), kKnown.end(), key) != kKnown.end(), "unknown setting");
        CheckStorable(value, "setting value");
      }
      for (const auto& spec : result.candidates) {
        Check(!spec.fields.empty(), "candidate without fields");
        CheckStorable(spec.origin, "candidate origin");
        for (const auto& [key, value] : spec.fields) {
          Check(!value.empty(), "candidate field without a value");
          CheckStorable(value, "candidate value");
        }
      }
    } catch (const joulebench::InputError& e) {
      CheckStorable(e.what(), "plan file error message");
    }
  }
  return 0;
}
