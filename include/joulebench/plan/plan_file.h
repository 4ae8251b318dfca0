// Plan files: the inputs of `plan infer` / `plan train` in TOML, so that a comparison (such as
// the study's, data/examples/study.toml) can be rerun with one command. Layout:
//
//   [infer]                          # settings named as the command's flags, without "--"
//   sla = "1000000/h"
//   region = "us-east-1"
//   [[infer.candidate]]              # keys as in --candidate (candidate_spec.h)
//   name = "inf1.2xlarge"
//   throughput = "54/s"
//   [train] ... [[train.candidate]] ...
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/plan/candidate_spec.h"

namespace joulebench::plan {

struct PlanFileSection {
  std::map<std::string, std::string> settings;  // flag name -> value as text
  std::vector<CandidateSpec> candidates;
};

// Reads the [section] ("infer" or "train") of a TOML plan file. Numbers and booleans become
// text ("1.135"). Throws InputError naming the file (and line where toml++ gives one) on a
// parse error, an unknown setting or candidate key, or a missing section.
PlanFileSection ReadPlanFile(const std::filesystem::path& path, std::string_view section,
                             const std::vector<std::string>& known_settings);
// The same for the text of a plan file; `path` names it in messages.
PlanFileSection ParsePlanText(std::string_view text, const std::filesystem::path& path,
                              std::string_view section,
                              const std::vector<std::string>& known_settings);

}  // namespace joulebench::plan
