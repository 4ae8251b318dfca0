#include "joulebench/cluster/slurm_job.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "joulebench/error.h"

namespace joulebench::cluster {
namespace {

constexpr std::size_t kMaxHosts = 1'000'000;

// One piece of a host list item: literal text, or the alternatives of a bracket group.
struct Piece {
  std::vector<std::string> choices;
};

std::optional<long long> ParseNonNegative(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::vector<std::string> ExpandBracket(std::string_view inside, std::string_view hostlist) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= inside.size()) {
    std::size_t comma = inside.find(',', start);
    if (comma == std::string_view::npos) comma = inside.size();
    const std::string_view range = inside.substr(start, comma - start);
    start = comma + 1;
    const std::size_t dash = range.find('-');
    const std::string_view lo_text = range.substr(0, dash);
    const std::string_view hi_text =
        dash == std::string_view::npos ? lo_text : range.substr(dash + 1);
    const auto lo = ParseNonNegative(lo_text);
    const auto hi = ParseNonNegative(hi_text);
    if (!lo || !hi || *hi < *lo) {
      throw InputError(fmt::format("host list '{}': '{}' is not a range of numbers like 01-04 or 7",
                                   hostlist, range));
    }
    if (static_cast<std::size_t>(*hi - *lo) >= kMaxHosts) {
      throw InputError(fmt::format("host list '{}' names more than {} hosts", hostlist, kMaxHosts));
    }
    const int width = static_cast<int>(lo_text.size());
    for (long long v = *lo; v <= *hi; ++v) out.push_back(fmt::format("{:0{}}", v, width));
    if (out.size() > kMaxHosts) {
      throw InputError(fmt::format("host list '{}' names more than {} hosts", hostlist, kMaxHosts));
    }
  }
  return out;
}

void ExpandItem(std::string_view item, std::string_view hostlist, std::vector<std::string>& out) {
  std::vector<Piece> pieces;
  std::size_t i = 0;
  while (i < item.size()) {
    const std::size_t open = item.find('[', i);
    if (open != i) {
      const std::string_view literal =
          item.substr(i, open == std::string_view::npos ? open : open - i);
      if (literal.find(']') != std::string_view::npos) {
        throw InputError(fmt::format("host list '{}': ']' without '['", hostlist));
      }
      pieces.push_back({{std::string(literal)}});
      if (open == std::string_view::npos) break;
    }
    const std::size_t close = item.find(']', open);
    if (close == std::string_view::npos) {
      throw InputError(fmt::format("host list '{}': '[' without ']'", hostlist));
    }
    pieces.push_back({ExpandBracket(item.substr(open + 1, close - open - 1), hostlist)});
    i = close + 1;
  }
  std::vector<std::string> names{""};
  for (const Piece& piece : pieces) {
    if (names.size() * piece.choices.size() > kMaxHosts) {
      throw InputError(fmt::format("host list '{}' names more than {} hosts", hostlist, kMaxHosts));
    }
    std::vector<std::string> next;
    next.reserve(names.size() * piece.choices.size());
    for (const auto& prefix : names) {
      for (const auto& choice : piece.choices) next.push_back(prefix + choice);
    }
    names = std::move(next);
  }
  for (auto& name : names) {
    if (!name.empty()) out.push_back(std::move(name));
  }
}

std::optional<int> IntVariable(const EnvironmentLookup& env,
                               std::initializer_list<std::string_view> names, SlurmJob& job) {
  for (auto name : names) {
    const auto value = env(name);
    if (!value) continue;
    // "4(x2)" in SLURM_NTASKS_PER_NODE-like variables is not a single number: keep the first.
    const auto number = ParseNonNegative(std::string_view(*value).substr(0, value->find('(')));
    if (!number || *number > 1'000'000'000) {
      job.warnings.push_back(fmt::format("{}='{}' is not a whole number; ignored", name, *value));
      return std::nullopt;
    }
    return static_cast<int>(*number);
  }
  return std::nullopt;
}

std::string StringVariable(const EnvironmentLookup& env,
                           std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (auto value = env(name)) return *value;
  }
  return "";
}

}  // namespace

std::optional<std::string> ProcessEnvironment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::vector<std::string> ExpandHostlist(std::string_view hostlist) {
  std::vector<std::string> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= hostlist.size(); ++i) {
    const char c = i < hostlist.size() ? hostlist[i] : ',';
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (depth < 0 || depth > 1) {
      throw InputError(fmt::format("host list '{}': brackets do not match", hostlist));
    }
    if (c == ',' && depth == 0) {
      ExpandItem(hostlist.substr(start, i - start), hostlist, out);
      if (out.size() > kMaxHosts) {
        throw InputError(
            fmt::format("host list '{}' names more than {} hosts", hostlist, kMaxHosts));
      }
      start = i + 1;
    }
  }
  if (depth != 0) throw InputError(fmt::format("host list '{}': '[' without ']'", hostlist));
  return out;
}

std::vector<int> ExpandTasksPerNode(std::string_view spec) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view item = spec.substr(start, comma - start);
    start = comma + 1;
    const std::size_t paren = item.find('(');
    const auto tasks = ParseNonNegative(item.substr(0, paren));
    long long repeat = 1;
    if (paren != std::string_view::npos) {
      const std::string_view times = item.substr(paren);
      const auto n = times.size() > 3 && times.substr(0, 2) == "(x" && times.back() == ')'
                         ? ParseNonNegative(times.substr(2, times.size() - 3))
                         : std::nullopt;
      if (!n || *n < 1) {
        throw InputError(fmt::format(
            "tasks per node '{}': '{}' is not COUNT or COUNT(xREPEAT), e.g. 2(x3)", spec, item));
      }
      repeat = *n;
    }
    if (!tasks || *tasks > 1'000'000) {
      throw InputError(fmt::format(
          "tasks per node '{}': '{}' is not COUNT or COUNT(xREPEAT), e.g. 2(x3)", spec, item));
    }
    if (out.size() + static_cast<std::size_t>(repeat) > kMaxHosts) {
      throw InputError(
          fmt::format("tasks per node '{}' covers more than {} nodes", spec, kMaxHosts));
    }
    out.insert(out.end(), static_cast<std::size_t>(repeat), static_cast<int>(*tasks));
  }
  return out;
}

std::optional<SlurmJob> SlurmJobFromEnvironment(const EnvironmentLookup& env) {
  SlurmJob job;
  job.job_id = StringVariable(env, {"SLURM_JOB_ID", "SLURM_JOBID"});
  if (job.job_id.empty()) return std::nullopt;
  job.job_name = StringVariable(env, {"SLURM_JOB_NAME"});
  job.step_id = StringVariable(env, {"SLURM_STEP_ID", "SLURM_STEPID"});
  job.cluster_name = StringVariable(env, {"SLURM_CLUSTER_NAME"});
  job.partition = StringVariable(env, {"SLURM_JOB_PARTITION"});
  job.account = StringVariable(env, {"SLURM_JOB_ACCOUNT"});
  job.submit_host = StringVariable(env, {"SLURM_SUBMIT_HOST"});
  job.nodelist = StringVariable(env, {"SLURM_JOB_NODELIST", "SLURM_NODELIST"});
  if (!job.nodelist.empty()) {
    try {
      job.nodes = ExpandHostlist(job.nodelist);
    } catch (const InputError& e) {
      job.warnings.push_back(
          fmt::format("SLURM_JOB_NODELIST: {}; the node list is not recorded", e.what()));
    }
  }
  job.ntasks = IntVariable(env, {"SLURM_NTASKS", "SLURM_NPROCS"}, job);
  job.nnodes = IntVariable(env, {"SLURM_JOB_NUM_NODES", "SLURM_NNODES"}, job);
  job.cpus_per_task = IntVariable(env, {"SLURM_CPUS_PER_TASK"}, job);
  job.procid = IntVariable(env, {"SLURM_PROCID"}, job);

  for (std::string_view name : {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"}) {
    const auto value = env(name);
    if (!value) continue;
    try {
      job.tasks_per_node = ExpandTasksPerNode(*value);
      job.tasks_per_node_spec = *value;
    } catch (const InputError& e) {
      job.warnings.push_back(
          fmt::format("{}: {}; the task layout is not recorded", name, e.what()));
    }
    break;
  }
  if (job.tasks_per_node_spec.empty()) {
    if (const auto per_node = env("SLURM_NTASKS_PER_NODE")) {
      const auto n = IntVariable(env, {"SLURM_NTASKS_PER_NODE"}, job);
      const std::size_t nodes = !job.nodes.empty() ? job.nodes.size()
                                : job.nnodes       ? static_cast<std::size_t>(*job.nnodes)
                                                   : 0;
      if (n && nodes > 0) {
        job.tasks_per_node.assign(nodes, *n);
        job.tasks_per_node_spec = *per_node;
      }
    }
  }
  if (!job.nodes.empty() && !job.tasks_per_node.empty() &&
      job.nodes.size() != job.tasks_per_node.size()) {
    job.warnings.push_back(fmt::format(
        "Slurm's tasks per node '{}' cover {} node(s), its node list '{}' {}; both are recorded "
        "as given",
        job.tasks_per_node_spec, job.tasks_per_node.size(), job.nodelist, job.nodes.size()));
  }
  return job;
}

nlohmann::json ToJson(const SlurmJob& job) {
  nlohmann::json j = {
      {"job_id", job.job_id},
      {"job_name", job.job_name},
      {"nodelist", job.nodelist},
      {"nodes", job.nodes},
      {"tasks_per_node", job.tasks_per_node},
      {"tasks_per_node_spec", job.tasks_per_node_spec},
  };
  auto optional_string = [&](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  optional_string("step_id", job.step_id);
  optional_string("cluster_name", job.cluster_name);
  optional_string("partition", job.partition);
  optional_string("account", job.account);
  optional_string("submit_host", job.submit_host);
  if (job.ntasks) j["ntasks"] = *job.ntasks;
  if (job.nnodes) j["nnodes"] = *job.nnodes;
  if (job.cpus_per_task) j["cpus_per_task"] = *job.cpus_per_task;
  if (!job.warnings.empty()) j["warnings"] = job.warnings;
  return j;
}

}  // namespace joulebench::cluster
