#include "joulebench/cluster/timeline_merger.h"

#include <algorithm>

#include "joulebench/cluster/job_energy.h"

namespace joulebench::cluster {

TimelineMerger::Node* TimelineMerger::Find(std::string_view node_id) {
  for (auto& n : nodes_) {
    if (n.id == node_id) return &n;
  }
  return nullptr;
}

bool TimelineMerger::HasNode(std::string_view node_id) const {
  for (const auto& n : nodes_) {
    if (n.id == node_id) return true;
  }
  return false;
}

void TimelineMerger::AddNode(const std::string& node_id,
                             const std::vector<energy::DomainInfo>& domains, double start_unix_s) {
  if (HasNode(node_id)) return;
  Node node;
  node.id = node_id;
  node.domain_count = domains.size();
  node.start_unix_s = start_unix_s;
  node.joules.assign(domains.size(), {});
  if (nodes_.empty()) merged_.start_unix_s = start_unix_s;
  for (energy::DomainInfo d : domains) {
    d.name = NodeDomainName(node_id, d.name);
    if (!d.parent.empty()) d.parent = NodeDomainName(node_id, d.parent);
    merged_.domains.push_back(std::move(d));
    merged_.joules.emplace_back();
  }
  // Rows already merged stay as they are: a node added late starts at 0 from its first row.
  for (std::size_t i = merged_.joules.size() - domains.size(); i < merged_.joules.size(); ++i) {
    merged_.joules[i].assign(merged_.time_s.size(), 0.0);
  }
  nodes_.push_back(std::move(node));
}

void TimelineMerger::Append(std::string_view node_id, const std::vector<double>& time_s,
                            const std::vector<std::vector<double>>& joules) {
  Node* node = Find(node_id);
  if (node == nullptr || joules.size() != node->domain_count) return;
  for (const auto& series : joules) {
    if (series.size() != time_s.size()) return;
  }
  for (std::size_t i = 0; i < time_s.size(); ++i) {
    const double t = node->start_unix_s + time_s[i];
    if (!node->time_unix_s.empty() && t < node->time_unix_s.back()) continue;
    node->time_unix_s.push_back(t);
    for (std::size_t d = 0; d < node->domain_count; ++d) node->joules[d].push_back(joules[d][i]);
  }
}

void TimelineMerger::SetGaps(std::string_view node_id, std::vector<sampling::TimelineGap> gaps) {
  if (Node* node = Find(node_id)) node->gaps = std::move(gaps);
}

void TimelineMerger::MergeGaps() {
  merged_.gaps.clear();
  if (nodes_.empty()) return;
  const double axis_start = nodes_.front().start_unix_s;
  for (const auto& node : nodes_) {
    const double shift = node.start_unix_s - axis_start;
    for (sampling::TimelineGap g : node.gaps) {
      g.domain = NodeDomainName(node.id, g.domain);
      g.begin_s += shift;
      g.end_s += shift;
      merged_.gaps.push_back(std::move(g));
    }
  }
  std::stable_sort(merged_.gaps.begin(), merged_.gaps.end(),
                   [](const auto& a, const auto& b) { return a.begin_s < b.begin_s; });
}

void TimelineMerger::CloseNode(std::string_view node_id) {
  if (Node* node = Find(node_id)) node->closed = true;
}

const sampling::Timeline& TimelineMerger::Merge(bool final) {
  if (nodes_.empty()) return merged_;
  MergeGaps();
  const Node& axis = nodes_.front();
  for (std::size_t i = merged_.time_s.size(); i < axis.time_unix_s.size(); ++i) {
    const double t = axis.time_unix_s[i];
    bool ready = true;
    for (std::size_t n = 1; n < nodes_.size() && ready; ++n) {
      const Node& node = nodes_[n];
      const bool reached = !node.time_unix_s.empty() && node.time_unix_s.back() >= t;
      ready = final || node.closed || reached;
    }
    if (!ready) break;
    merged_.time_s.push_back(t - axis.start_unix_s);
    std::size_t column = 0;
    for (auto& node : nodes_) {
      const auto& times = node.time_unix_s;
      while (node.cursor < times.size() && times[node.cursor] < t) ++node.cursor;
      for (std::size_t d = 0; d < node.domain_count; ++d, ++column) {
        const auto& series = node.joules[d];
        double value = 0;
        if (times.empty() || node.cursor == 0) {
          value = !times.empty() && times.front() == t ? series.front() : 0.0;
        } else if (node.cursor >= times.size()) {
          value = series.back();
        } else {
          const std::size_t hi = node.cursor;
          const std::size_t lo = hi - 1;
          const double span = times[hi] - times[lo];
          const double f = span > 0 ? (t - times[lo]) / span : 1.0;
          value = series[lo] + (series[hi] - series[lo]) * f;
        }
        merged_.joules[column].push_back(value);
      }
    }
  }
  return merged_;
}

}  // namespace joulebench::cluster
