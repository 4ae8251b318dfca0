#include "joulebench/plan/plan_file.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

std::string ValueText(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_integer()) return fmt::format("{}", *node.value<int64_t>());
  if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  throw InputError(fmt::format("{}: expected a string or a number", where));
}

std::string Where(const std::filesystem::path& path, const toml::node& node,
                  std::string_view what) {
  return fmt::format("{}:{}: {}", path.string(), node.source().begin.line, what);
}

}  // namespace

PlanFileSection ReadPlanFile(const std::filesystem::path& path, std::string_view section,
                             const std::vector<std::string>& known_settings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(fmt::format("{}: cannot be read; check the path", path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParsePlanText(text.str(), path, section, known_settings);
}

PlanFileSection ParsePlanText(std::string_view text, const std::filesystem::path& path,
                              std::string_view section,
                              const std::vector<std::string>& known_settings) {
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw InputError(fmt::format("{}:{}: {} (column {})", path.string(), begin.line,
                                 e.description(), begin.column));
  }
  const toml::table* table = root[section].as_table();
  if (table == nullptr) {
    throw InputError(fmt::format("{}: no [{}] section", path.string(), section));
  }
  PlanFileSection result;
  for (const auto& [key, node] : *table) {
    const std::string name(key.str());
    if (name == "candidate") {
      const toml::array* array = node.as_array();
      if (array == nullptr) {
        throw InputError(Where(path, node,
                               fmt::format("'{}.candidate' must be an array of "
                                           "tables ([[{}.candidate]])",
                                           section, section)));
      }
      int index = 0;
      for (const auto& element : *array) {
        ++index;
        const toml::table* candidate = element.as_table();
        if (candidate == nullptr) {
          throw InputError(Where(path, element, "a candidate must be a table"));
        }
        std::vector<std::pair<std::string, std::string>> fields;
        for (const auto& [ck, cv] : *candidate) {
          fields.emplace_back(std::string(ck.str()),
                              ValueText(cv, Where(path, cv, fmt::format("field '{}'", ck.str()))));
        }
        const int line = element.source().begin.line;
        result.candidates.push_back(CandidateSpecFromFields(
            std::move(fields), fmt::format("{}:{} [[{}.candidate]] #{}", path.filename().string(),
                                           line, section, index)));
      }
      continue;
    }
    if (std::find(known_settings.begin(), known_settings.end(), name) == known_settings.end()) {
      throw InputError(Where(path, node,
                             fmt::format("unknown setting '{}' in [{}]; settings: {}", name,
                                         section, fmt::join(known_settings, ", "))));
    }
    result.settings[name] = ValueText(node, Where(path, node, fmt::format("setting '{}'", name)));
  }
  return result;
}

}  // namespace joulebench::plan
