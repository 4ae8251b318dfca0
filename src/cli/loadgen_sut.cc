#include "cli/loadgen_sut.h"

#include <fmt/format.h>

#include "joulebench/load/builtin_suts.h"
#include "joulebench/units.h"

namespace joulebench::cli {

LoadgenSut MakeLoadgenSut(const std::string& spec) {
  LoadgenSut out;
  if (http::IsHttpSutSpec(spec)) {
    const http::HttpSutSpec parsed = http::ParseHttpSutSpec(spec);
    auto sut = std::make_unique<http::HttpSut>(parsed.sut, http::MakePayloads(parsed));
    out.http = sut.get();
    // The payloads are the sample library: one sample per request body.
    out.qsl = const_cast<http::RequestPayloads*>(sut->payloads().get());
    out.sut = std::move(sut);
    return out;
  }
  out.sut = load::MakeBuiltinSut(spec);
  out.synthetic = std::make_unique<load::SyntheticSampleLibrary>();
  out.qsl = out.synthetic.get();
  return out;
}

std::string RedactSutSpec(const std::string& spec) {
  if (!http::IsHttpSutSpec(spec)) return spec;
  std::string out;
  std::size_t begin = 0;
  while (begin <= spec.size()) {
    const std::size_t comma = spec.find(',', begin);
    const std::size_t end = comma == std::string::npos ? spec.size() : comma;
    std::string item = spec.substr(begin, end - begin);
    if (item.starts_with("header=")) {
      const std::size_t colon = item.find(':');
      item = item.substr(0, colon == std::string::npos ? item.size() : colon) + ": <redacted>";
    }
    out += (begin == 0 ? "" : ",") + item;
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return out;
}

std::string HttpSummary(const http::HttpSut& sut, run::RunRecord& record) {
  const http::HttpSutStats s = sut.stats();
  const http::HttpSutOptions& o = sut.options();
  std::string out = fmt::format(
      "http: {} requests to {} ({}), {} connections opened (pool of {}), replies over "
      "HTTP/1.1: {}, HTTP/2: {}; sent {:.3g} MB, received {:.3g} MB\n",
      s.requests, sut.endpoint(), http::ProtocolName(o.protocol), s.connections_opened,
      o.max_connections, s.http1_replies, s.http2_replies,
      static_cast<double>(s.request_bytes) / 1e6, static_cast<double>(s.reply_bytes) / 1e6);
  nlohmann::json failures = nlohmann::json::object();
  for (std::size_t k = 0; k < load::kFailureKindCount; ++k) {
    if (s.failed_by_kind[k] == 0) continue;
    const std::string_view kind = load::FailureKindName(static_cast<load::FailureKind>(k));
    out += fmt::format("  failed ({}): {} in all, the first: {}\n", kind, s.failed_by_kind[k],
                       s.first_failure[k]);
    record.warnings.push_back(fmt::format("http {} failures: {}, the first: {}", kind,
                                          s.failed_by_kind[k], s.first_failure[k]));
    failures[std::string(kind)] = s.failed_by_kind[k];
  }
  record.config["http"] = {
      {"endpoint", sut.endpoint()},
      {"protocol", http::ProtocolName(o.protocol)},
      {"model", o.model},
      {"http_version", o.http_version == http::HttpVersion::k2 ? "2" : "1.1"},
      {"max_connections", o.max_connections},
      {"max_streams_per_connection", o.max_streams_per_connection},
      {"connect_timeout_s", std::chrono::duration<double>(o.connect_timeout).count()},
      {"timeout_s", std::chrono::duration<double>(o.timeout).count()},
      {"stream", o.stream},
      {"max_tokens", o.max_tokens},
      {"payloads", sut.payloads()->Name()},
      {"requests", s.requests},
      {"connections_opened", s.connections_opened},
      {"http1_replies", s.http1_replies},
      {"http2_replies", s.http2_replies},
      {"failures_whole_run", std::move(failures)},
  };
  return out;
}

std::string ServerAttribution(const sampling::CpuShareSampler& sampler,
                              const sampling::EnergyReport& report, double begin_steady_s,
                              double end_steady_s, std::uint64_t succeeded_queries,
                              run::RunRecord& record) {
  const sampling::CpuShareWindow w = sampler.Window(begin_steady_s, end_steady_s);
  double cpu_joules = 0;
  std::string domains;
  bool modelled = false;
  // The CPU: its packages (RAPL) or the model's estimate; cores and uncore only where no
  // package domain exists (they lie inside a package: never both).
  auto is_package = [](energy::Component c) {
    return c == energy::Component::kCpuPackage || c == energy::Component::kCpu;
  };
  bool any_package = false;
  for (const auto& d : report.domains) any_package = any_package || is_package(d.domain.component);
  for (const auto& d : report.domains) {
    const auto c = d.domain.component;
    const bool take = any_package
                          ? is_package(c)
                          : (c == energy::Component::kCpuCores || c == energy::Component::kUncore);
    if (!take) continue;
    cpu_joules += d.joules;
    domains += (domains.empty() ? "" : " + ") + d.domain.name;
    modelled = modelled || d.domain.provenance.kind == energy::ProvenanceKind::kModelled;
  }
  const std::string measured_by = "measured: " + sampler.Method();
  record.metrics.push_back({"server_cpu_time", w.server_cpu_s, "s", measured_by});
  record.metrics.push_back({"server_cpu_share", w.server_share(), "1", measured_by});
  record.metrics.push_back({"loadgen_cpu_share", w.self_share(), "1",
                            "measured: /proc/self/stat utime+stime over /proc/stat busy time"});
  std::string out = fmt::format(
      "server {}: {:.3g} CPU-s in the measurement window = {:.1f} % of the machine's busy CPU "
      "time (load generator: {:.1f} %; {})\n",
      sampler.ServerLabel(), w.server_cpu_s, w.server_share() * 100, w.self_share() * 100,
      measured_by);
  if (domains.empty()) {
    out += "  no CPU energy domain in the measurement: the server's CPU energy is not attributed\n";
    return out;
  }
  const double joules = cpu_joules * w.server_share();
  const std::string model =
      fmt::format("modelled: CPU-time share x ({}{}), the per-process model of Scaphandre", domains,
                  modelled ? ", itself modelled" : "");
  record.metrics.push_back({"server_cpu_energy", joules, "J", model});
  out += fmt::format("  server CPU energy: {} of the CPU's {} ({})\n", FormatJoules(joules),
                     FormatJoules(cpu_joules), model);
  if (succeeded_queries > 0) {
    const double per_query = joules / static_cast<double>(succeeded_queries);
    record.metrics.push_back({"server_cpu_energy_per_query", per_query, "J", model});
    out += fmt::format("  server CPU energy per query: {} ({})\n", FormatJoules(per_query), model);
  }
  if (sampler.server_gone()) {
    out += "  note: the server process ended during the run; its CPU time stops there\n";
    record.warnings.push_back("the server process ended during the run");
  }
  return out;
}

}  // namespace joulebench::cli
