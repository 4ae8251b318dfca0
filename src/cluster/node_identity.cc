#include "joulebench/cluster/node_identity.h"

#include <fmt/format.h>
#include <limits.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "joulebench/error.h"

namespace joulebench::cluster {
namespace {

std::string Hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name) != 0) return "localhost";
  name[HOST_NAME_MAX] = '\0';
  return name;
}

void CheckNodeId(const std::string& id, std::string_view what) {
  if (id.empty()) {
    throw InputError(fmt::format("{} is empty; give a node name such as node07", what));
  }
  if (id.size() > 255) {
    throw InputError(
        fmt::format("{} '{}...' is longer than 255 characters", what, id.substr(0, 32)));
  }
  for (const char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '%' || std::isspace(u) || std::iscntrl(u)) {
      throw InputError(fmt::format(
          "{} '{}' holds a '/', '%', space or control character; node ids name files, use "
          "letters, digits, '-', '_' or '.'",
          what, id));
    }
  }
}

}  // namespace

NodeIdentity ResolveNodeIdentity(std::string_view flag) {
  NodeIdentity node;
  node.hostname = Hostname();
  if (!flag.empty()) {
    node.id = std::string(flag);
    node.source = "--node-id";
  } else if (const char* env = std::getenv("JOULEBENCH_NODE_ID"); env != nullptr) {
    node.id = env;
    node.source = "JOULEBENCH_NODE_ID";
  } else {
    node.id = node.hostname;
    node.source = "hostname";
  }
  CheckNodeId(node.id, node.source);
  return node;
}

std::string ExpandNodePattern(std::string_view pattern, std::string_view node_id,
                              std::string_view what) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (next == 'n') {
      out += node_id;
    } else if (next == '%') {
      out += '%';
    } else {
      throw InputError(
          fmt::format("{} '{}': '%{}' is not a pattern; use %n for the node id or %% for a '%'",
                      what, pattern, next == '\0' ? std::string() : std::string(1, next)));
    }
    ++i;
  }
  return out;
}

}  // namespace joulebench::cluster
