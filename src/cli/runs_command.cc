// joulebench runs list|show|export|delete: the stored runs.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "cli/store_options.h"
#include "joulebench/error.h"
#include "joulebench/report/run_listing.h"
#include "joulebench/store/run_store.h"

namespace joulebench::cli {
namespace {

struct RunsOptions {
  std::optional<std::string> db;
  std::optional<std::string> kind;
  std::optional<std::string> since;
  bool json = false;
  std::vector<std::string> ids;
  std::string format = "json";
  std::optional<std::string> output;
};

double NowUnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Write(const std::string& text, const std::optional<std::string>& output) {
  if (!output) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  std::ofstream out(*output, std::ios::binary | std::ios::trunc);
  if (!out || !(out << text) || !out.flush()) {
    throw EnvironmentError(
        fmt::format("-o {}: cannot write the file; check the directory exists "
                    "and is writable",
                    *output));
  }
}

int List(const RunsOptions& o) {
  store::ListFilter filter;
  filter.kind = o.kind;
  if (o.since) filter.since_unix_s = store::ParseSince(*o.since, NowUnixSeconds());
  std::vector<store::RunSummary> runs;
  auto path = store::DatabasePath(o.db);
  // A missing file in an existing directory is an empty store; anything else (a missing
  // directory, a corrupt file) is reported by opening it.
  std::filesystem::path parent = path.parent_path().empty() ? "." : path.parent_path();
  if (std::filesystem::exists(path) || !std::filesystem::is_directory(parent)) {
    runs = store::RunStore::OpenExisting(path).List(filter);
  }
  if (o.json) {
    std::printf("%s\n", run::DumpJson(report::RunListJson(runs), 2).c_str());
  } else {
    std::fputs(report::FormatRunList(runs).c_str(), stdout);
  }
  return 0;
}

int Show(const RunsOptions& o) {
  auto store = store::OpenExistingStore(o.db);
  if (o.json) {
    std::printf("%s\n", run::DumpJson(run::ToJson(store.Load(o.ids.at(0))), 2).c_str());
    return 0;
  }
  // The details show the timeline's size, not its samples: a day-long one is not read whole.
  store::LoadOptions load;
  load.max_timeline_samples = 2;
  const run::RunRecord record = store.Load(o.ids.at(0), load);
  const std::size_t samples = store.SampleCount(o.ids.at(0));
  std::fputs(report::FormatRunDetails(record, samples).c_str(), stdout);
  return 0;
}

int Export(const RunsOptions& o) {
  if (o.format != "json" && o.format != "csv") {
    throw InputError(fmt::format("--format: '{}' is not json or csv", o.format));
  }
  auto store = store::OpenExistingStore(o.db);
  // Load every run before writing anything, so a bad id leaves no half-written output.
  std::vector<run::RunRecord> records;
  for (const auto& id : o.ids) records.push_back(store.Load(id));
  std::string text;
  if (o.format == "json") {
    if (records.size() == 1) {
      text = run::DumpJson(run::ToJson(records[0]), 2) + "\n";
    } else {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& r : records) all.push_back(run::ToJson(r));
      text = run::DumpJson(all, 2) + "\n";
    }
  } else {
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records.size() > 1) text += fmt::format("## run {}\n", records[i].id);
      text += report::RunCsv(records[i]);
    }
  }
  Write(text, o.output);
  return 0;
}

int Delete(const RunsOptions& o) {
  auto store = store::OpenExistingStore(o.db);
  store.Delete(o.ids);
  for (const auto& id : o.ids) std::printf("deleted run %s\n", id.c_str());
  return 0;
}

CommandRegistration registration{Command{
    "runs", "List, show, export and delete stored runs",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<RunsOptions>();
      app.require_subcommand(1);
      CLI::App* list = app.add_subcommand("list", "List stored runs, newest first");
      list->add_option("--kind", o->kind,
                       "Only runs of this kind (measure, loadgen, infer, train)");
      list->add_option("--since", o->since,
                       "Only runs started since a UTC date/time (2026-11-29, "
                       "2026-11-29T09:30:00Z) or a duration ago (24h, 7d)");
      list->add_flag("--json", o->json, "Print JSON (docs/json-schema.md)");
      AddDbOption(*list, o->db);
      CLI::App* show = app.add_subcommand("show", "Show everything stored about one run");
      show->add_option("id", o->ids, "Run id (see 'runs list')")->required()->expected(1);
      show->add_flag("--json", o->json, "Print the run as JSON (docs/json-schema.md)");
      AddDbOption(*show, o->db);
      CLI::App* exp = app.add_subcommand("export", "Export runs with their full timelines");
      exp->add_option("ids", o->ids, "Run ids")->required();
      exp->add_option("--format", o->format, "json (one object, or an array for several) or csv")
          ->capture_default_str();
      exp->add_option("-o,--output", o->output, "Write to this file instead of stdout");
      AddDbOption(*exp, o->db);
      CLI::App* del = app.add_subcommand("delete", "Delete runs (all or none)");
      del->add_option("ids", o->ids, "Run ids")->required();
      AddDbOption(*del, o->db);
      return [o, list, show, exp, del]() {
        if (list->parsed()) return List(*o);
        if (show->parsed()) return Show(*o);
        if (exp->parsed()) return Export(*o);
        if (del->parsed()) return Delete(*o);
        return 2;
      };
    },
    60}};

}  // namespace
}  // namespace joulebench::cli
