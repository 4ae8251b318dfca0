// Systems under test as `loadgen --sut` names them: the built-in "sleep:..." and the HTTP
// "http:url=...,..." specs. A spec is refused with InputError or gives options in their
// documented ranges (include/joulebench/load/builtin_suts.h, include/joulebench/http/http_sut.h).
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "joulebench/error.h"
#include "joulebench/http/http_sut.h"
#include "joulebench/load/builtin_suts.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  try {
    const auto o = joulebench::load::ParseSleepSutSpec(text);
    Check(o.workers >= 1 && o.workers <= 1024, "sleep workers out of range");
    Check(o.service_ns > 0, "sleep service time <= 0");
  } catch (const joulebench::InputError&) {
  }
  try {
    const auto spec = joulebench::http::ParseHttpSutSpec(text);
    const auto& o = spec.sut;
    const auto& p = spec.payloads;
    Check(o.url.starts_with("http://") || o.url.starts_with("https://"), "url scheme");
    Check(o.max_connections >= 1 && o.max_connections <= 4096, "connections out of range");
    Check(o.max_streams_per_connection >= 1 && o.max_streams_per_connection <= 1000,
          "streams out of range");
    Check(o.connect_timeout.count() > 0 && o.timeout.count() > 0, "timeout <= 0");
    Check(o.max_tokens >= 1, "max_tokens < 1");
    Check(p.sample_count >= 1 && p.seq_len >= 3 && p.vocab_size >= 1, "payload options");
    // A header is sent as one line of the request: a line break in it would split the request.
    for (const auto& h : o.headers) {
      Check(h.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
            "header with a line break or NUL: " + h);
    }
    Check(o.url.find_first_of(std::string_view("\r\n\0 ", 4)) == std::string::npos,
          "url with a line break, NUL or space: " + o.url);
  } catch (const joulebench::InputError&) {
  }
  return 0;
}
