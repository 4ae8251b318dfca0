// Stored run JSON (`--json` output read back by `plan ... run=FILE`, `report`, and the store's
// JSON columns): a document is refused with InputError (or a JSON error, which the readers turn
// into InputError) or read into a record that writes back out as JSON and reads back the same.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"
#include "joulebench/error.h"
#include "joulebench/run/run_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  namespace run = joulebench::run;
  const auto doc = nlohmann::json::parse(joulebench::fuzz::AsText(data, size), nullptr,
                                         /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  run::RunRecord record;
  try {
    record = run::RunRecordFromJson(doc);
  } catch (const joulebench::InputError&) {
    return 0;
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  // Writing must never throw: a record that cannot be written is a run lost.
  const std::string once = run::ToJson(record).dump();
  const auto again = run::RunRecordFromJson(nlohmann::json::parse(once));
  const std::string twice = run::ToJson(again).dump();
  Check(once == twice, "run JSON does not read back as written:\n" + once + "\n" + twice);
  return 0;
}
