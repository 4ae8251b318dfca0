// Which node (machine) a process runs on, for multi-node runs: ranks with the same node id
// share one meter, so that a node's energy is counted once however many ranks it runs.
//
// By default the id is the host name. JOULEBENCH_NODE_ID (or --node-id) overrides it: a
// test gives each rank a simulated node, and a site whose host names are not unique (a
// container per job) gives its own.
#pragma once

#include <string>
#include <string_view>

namespace joulebench::cluster {

struct NodeIdentity {
  std::string id;        // the node id ranks are grouped by
  std::string hostname;  // gethostname(): where the process really runs
  std::string source;    // how `id` was chosen: "--node-id", "JOULEBENCH_NODE_ID" or "hostname"
};

// `flag` (--node-id) wins over JOULEBENCH_NODE_ID, which wins over the host name. Throws
// InputError naming where the id came from when it is empty, longer than 255 characters, or
// holds '/', '%', white space or control characters (it goes into paths and file names).
NodeIdentity ResolveNodeIdentity(std::string_view flag = {});

// Replaces "%n" in `pattern` with the node id and "%%" with "%", e.g. a per-node sysfs root
// "/srv/fake/%n/sys". Throws InputError naming `what` on any other '%' sequence.
std::string ExpandNodePattern(std::string_view pattern, std::string_view node_id,
                              std::string_view what);

}  // namespace joulebench::cluster
