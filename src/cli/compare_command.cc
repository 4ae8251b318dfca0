// joulebench compare ID ID...: stored runs side by side, as the study's table.
#include <cstdio>

#include "cli/command.h"
#include "cli/store_options.h"
#include "joulebench/error.h"
#include "joulebench/report/run_comparison.h"
#include "joulebench/run/run_record.h"
#include "joulebench/store/run_store.h"

namespace joulebench::cli {
namespace {

struct CompareOptions {
  std::optional<std::string> db;
  std::vector<std::string> ids;
  bool json = false;
};

int Compare(const CompareOptions& o) {
  if (o.ids.size() < 2) {
    throw InputError("compare needs at least two run ids; see 'joulebench runs list'");
  }
  auto store = store::OpenExistingStore(o.db);
  std::vector<run::RunRecord> runs;
  for (const auto& id : o.ids) runs.push_back(store.Load(id));
  report::RunComparison comparison = report::CompareRuns(runs);
  if (o.json) {
    std::printf("%s\n", run::DumpJson(report::ToJson(comparison), 2).c_str());
  } else {
    std::fputs(report::FormatComparison(comparison).c_str(), stdout);
  }
  for (const auto& flag : comparison.flags) {
    std::fprintf(stderr, "joulebench: warning: not like for like: %s\n", flag.c_str());
  }
  return 0;
}

CommandRegistration registration{Command{
    "compare", "Stored runs side by side: throughput, latency, energy per unit, power, ratios",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<CompareOptions>();
      app.add_option("ids", o->ids, "Run ids; the first is the reference")->required();
      app.add_flag("--json", o->json, "Print JSON");
      AddDbOption(app, o->db);
      return [o]() { return Compare(*o); };
    },
    65}};

}  // namespace
}  // namespace joulebench::cli
