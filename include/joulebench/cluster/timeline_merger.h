// One timeline for a multi-node run: the time axis is the first node's samples (rank 0's
// node), and every other node's cumulative joules are interpolated at those instants by wall
// clock (start_unix_s + time_s; nodes' clocks agree to well under a sampling period under
// NTP or PTP). Domains are renamed "<node>/<domain>". Nodes' samples arrive in pieces as
// the run goes on; a merged sample is produced once every node has reached its instant, so
// that a sample, once produced, never changes (the store appends timelines). Each node's gaps
// (spans without a measurement of a domain) are kept, renamed and shifted to the axis: the
// merged series is flat over them, as the node's own is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "joulebench/sampling/meter.h"

namespace joulebench::cluster {

class TimelineMerger {
 public:
  // The first node added gives the time axis. A node is added once.
  void AddNode(const std::string& node_id, const std::vector<energy::DomainInfo>& domains,
               double start_unix_s);
  bool HasNode(std::string_view node_id) const;
  // Appends a node's next samples (in time order, after those appended before; domains in
  // the order AddNode gave). Samples of an unknown node are ignored.
  void Append(std::string_view node_id, const std::vector<double>& time_s,
              const std::vector<std::vector<double>>& joules);
  // Replaces a node's gaps (every gap of its meter so far, times since its meter started):
  // the merged timeline holds them renamed and on its own time axis.
  void SetGaps(std::string_view node_id, std::vector<sampling::TimelineGap> gaps);
  // Stops waiting for a node (its leader was lost): its last value holds from then on.
  void CloseNode(std::string_view node_id);
  // The merged timeline: every sample of the time axis that all open nodes have reached; with
  // `final`, every sample of the axis, each node's value held after its last sample. Before a
  // node's first sample its cumulative energy is 0.
  const sampling::Timeline& Merge(bool final = false);
  const sampling::Timeline& merged() const { return merged_; }

 private:
  struct Node {
    std::string id;
    std::size_t domain_count = 0;
    double start_unix_s = 0;
    std::vector<double> time_unix_s;
    std::vector<std::vector<double>> joules;
    bool closed = false;
    std::size_t cursor = 0;  // first sample at or after the last merged instant
    std::vector<sampling::TimelineGap> gaps;
  };
  void MergeGaps();
  Node* Find(std::string_view node_id);
  std::vector<Node> nodes_;
  sampling::Timeline merged_;
};

}  // namespace joulebench::cluster
