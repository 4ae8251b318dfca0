// joulebench probe [--json]: which energy sources work here, and how to fix the others.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/source_flags.h"
#include "joulebench/run/run_record.h"
#include "report/energy_report_format.h"

namespace joulebench::cli {
namespace {

struct ProbeFlags {
  SourceFlags sources;
  bool json = false;
};

const CommandRegistration kProbe{{
    "probe",
    "List every energy source tried, what it found, and why the others are unavailable",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<ProbeFlags>();
      AddSourceFlags(app, flags->sources);
      app.add_flag("--json", flags->json, "Print JSON instead of a table");
      return [flags] {
        const energy::SourceOptions options = ResolveSourceOptions(flags->sources);
        const auto probes = energy::ProbeAll(options);
        const std::string out = flags->json
                                    ? run::DumpJson(report::ProbeResultsToJson(probes), 2) + "\n"
                                    : report::FormatProbeTable(probes);
        std::fwrite(out.data(), 1, out.size(), stdout);
        return 0;
      };
    },
    10,
}};

}  // namespace
}  // namespace joulebench::cli
