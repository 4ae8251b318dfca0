// The system under test of `joulebench loadgen --sut SPEC`: a built-in one (null, sleep) or
// an HTTP server (http:url=...), with its sample library; and what the HTTP SUT and the
// server-CPU attribution add to the report.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "joulebench/http/http_sut.h"
#include "joulebench/load/query_sample_library.h"
#include "joulebench/load/system_under_test.h"
#include "joulebench/run/run_record.h"
#include "joulebench/sampling/cpu_share.h"
#include "joulebench/sampling/meter.h"

namespace joulebench::cli {

struct LoadgenSut {
  std::unique_ptr<load::SystemUnderTest> sut;
  std::unique_ptr<load::QuerySampleLibrary> synthetic;  // built-in SUTs
  http::HttpSut* http = nullptr;                        // set for http:... specs
  load::QuerySampleLibrary* qsl = nullptr;              // the library to run with
};

// Throws InputError naming the bad part of the spec.
LoadgenSut MakeLoadgenSut(const std::string& spec);

// The spec with the values of header=... items replaced by "<redacted>" (API keys), for the
// stored run record.
std::string RedactSutSpec(const std::string& spec);

// Lines about the HTTP client after a run (requests, connections opened, HTTP versions,
// failures by kind with the first message of each); also stored as config/warnings.
std::string HttpSummary(const http::HttpSut& sut, run::RunRecord& record);

// Server CPU attribution over the measurement window: the server's share of busy CPU time
// times the energy of the CPU domains of `report`. Adds metrics and returns the lines to
// print ("" when the report has no CPU domain).
std::string ServerAttribution(const sampling::CpuShareSampler& sampler,
                              const sampling::EnergyReport& report, double begin_steady_s,
                              double end_steady_s, std::uint64_t succeeded_queries,
                              run::RunRecord& record);

}  // namespace joulebench::cli
