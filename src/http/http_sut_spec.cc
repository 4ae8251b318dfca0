// Parsing of "http:url=...,key=value,..." SUT specs.
#include <fmt/format.h>

#include <charconv>
#include <string>

#include "joulebench/error.h"
#include "joulebench/http/http_sut.h"
#include "joulebench/printable_text.h"
#include "joulebench/units.h"
#include "joulebench/workloads/model_config.h"

namespace joulebench::http {
namespace {

constexpr std::string_view kKeys =
    "url, protocol, model, http, connections, streams, connect_timeout, timeout, header, "
    "insecure, cacert, content_type, stream, max_tokens, samples, seq_len, seed, bbox, "
    "samples_file, body";

// The spec is quoted printable: a control character (a NUL included) would cut or garble the
// error line.
[[noreturn]] void Bad(std::string_view spec, std::string_view what) {
  throw InputError(fmt::format("--sut '{}': {}", PrintableText(spec, 200), what));
}

long long Integer(std::string_view spec, std::string_view key, std::string_view value, long long lo,
                  long long hi) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < lo || v > hi) {
    Bad(spec, fmt::format("{} must be an integer from {} to {} (got '{}')", key, lo, hi, value));
  }
  return v;
}

bool Boolean(std::string_view spec, std::string_view key, std::string_view value) {
  if (value == "1" || value == "true" || value == "yes") return true;
  if (value == "0" || value == "false" || value == "no") return false;
  Bad(spec, fmt::format("{} must be 0 or 1 (got '{}')", key, value));
}

// A control character (C0 or DEL); spaces and tabs too unless allowed.
bool HasControl(std::string_view text, bool allow_space) {
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    const bool blank = b == ' ' || b == '\t';
    if (blank ? !allow_space : (b < 0x20 || b == 0x7F)) return true;
  }
  return false;
}

// %2C in a value stands for a comma (items are separated by commas).
std::string Unescape(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() &&
        (value.substr(i + 1, 2) == "2C" || value.substr(i + 1, 2) == "2c")) {
      out += ',';
      i += 2;
    } else {
      out += value[i];
    }
  }
  return out;
}

Protocol ParseProtocol(std::string_view spec, std::string_view value) {
  if (value == "kserve" || value == "triton" || value == "v2") return Protocol::kKServe;
  if (value == "openai-completions" || value == "completions") {
    return Protocol::kOpenAiCompletions;
  }
  if (value == "openai-chat" || value == "chat") return Protocol::kOpenAiChat;
  if (value == "raw") return Protocol::kRaw;
  Bad(spec, fmt::format("protocol must be kserve, openai-completions, openai-chat or raw (got "
                        "'{}')",
                        value));
}

}  // namespace

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kKServe:
      return "kserve";
    case Protocol::kOpenAiCompletions:
      return "openai-completions";
    case Protocol::kOpenAiChat:
      return "openai-chat";
    case Protocol::kRaw:
      return "raw";
  }
  return "unknown";
}

bool IsHttpSutSpec(std::string_view spec) {
  return spec == "http" || spec.starts_with("http:") || spec.starts_with("https:");
}

HttpSutSpec ParseHttpSutSpec(std::string_view spec) {
  if (!IsHttpSutSpec(spec)) Bad(spec, "an HTTP SUT spec starts with 'http:'");
  std::string_view rest =
      spec.substr(spec.find(':') == std::string_view::npos ? spec.size() : spec.find(':') + 1);
  HttpSutSpec out;
  bool have_bbox = false;
  bool have_seq_len = false;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      Bad(spec, fmt::format("'{}' is not key=value (keys: {})", item, kKeys));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string value = Unescape(item.substr(eq + 1));
    HttpSutOptions& o = out.sut;
    PayloadOptions& p = out.payloads;
    if (key == "url") {
      o.url = value;
    } else if (key == "protocol") {
      o.protocol = ParseProtocol(spec, value);
    } else if (key == "model") {
      o.model = value;
    } else if (key == "http") {
      if (value == "1.1" || value == "1") {
        o.http_version = HttpVersion::k1_1;
      } else if (value == "2" || value == "h2" || value == "h2c") {
        o.http_version = HttpVersion::k2;
      } else {
        Bad(spec, fmt::format("http must be 1.1 or 2 (got '{}')", value));
      }
    } else if (key == "connections") {
      o.max_connections = static_cast<int>(Integer(spec, key, value, 1, 4096));
    } else if (key == "streams") {
      o.max_streams_per_connection = static_cast<int>(Integer(spec, key, value, 1, 1000));
    } else if (key == "connect_timeout") {
      o.connect_timeout = ParseDuration(value, "--sut http connect_timeout");
    } else if (key == "timeout") {
      o.timeout = ParseDuration(value, "--sut http timeout");
    } else if (key == "header") {
      if (value.find(':') == std::string::npos) {
        Bad(spec, fmt::format("header must be 'Name: value' (got '{}')", value));
      }
      // A line break would end the header line and start another one in the request.
      if (HasControl(value, /*allow_space=*/true)) {
        Bad(spec, "header must be one line without control characters");
      }
      o.headers.push_back(value);
    } else if (key == "insecure") {
      o.verify_tls = !Boolean(spec, key, value);
    } else if (key == "cacert") {
      o.ca_file = value;
    } else if (key == "content_type") {
      o.content_type = value;
    } else if (key == "stream") {
      o.stream = Boolean(spec, key, value);
    } else if (key == "max_tokens") {
      o.max_tokens = static_cast<int>(Integer(spec, key, value, 1, 1'000'000));
    } else if (key == "samples") {
      p.sample_count = static_cast<std::size_t>(Integer(spec, key, value, 1, 1'000'000));
    } else if (key == "seq_len") {
      p.seq_len = Integer(spec, key, value, 3, 1'000'000);
      have_seq_len = true;
    } else if (key == "seed") {
      p.seed = static_cast<std::uint64_t>(Integer(spec, key, value, 0, INT64_MAX));
    } else if (key == "bbox") {
      p.with_bbox = Boolean(spec, key, value);
      have_bbox = true;
    } else if (key == "samples_file") {
      p.samples_file = value;
    } else if (key == "body") {
      p.body_file = value;
    } else {
      Bad(spec, fmt::format("unknown key '{}' (keys: {})", key, kKeys));
    }
  }
  HttpSutOptions& o = out.sut;
  if (o.url.empty()) {
    Bad(spec, "url=... is required, e.g. http:url=http://127.0.0.1:8000,protocol=kserve");
  }
  if (!o.url.starts_with("http://") && !o.url.starts_with("https://")) {
    Bad(spec, fmt::format("url '{}' must start with http:// or https://", o.url));
  }
  if (HasControl(o.url, /*allow_space=*/false)) {
    Bad(spec, "url must not hold spaces or control characters; percent-encode them (%20)");
  }
  if (o.protocol != Protocol::kRaw && !out.payloads.body_file.empty()) {
    Bad(spec, "body=FILE applies to protocol=raw (use samples_file=FILE for one body per line)");
  }
  if (!out.payloads.body_file.empty() && !out.payloads.samples_file.empty()) {
    Bad(spec, "body and samples_file are alternatives: give one of them");
  }
  // Synthetic documents follow a built-in model's vocabulary and inputs.
  for (const auto& m : workloads::KnownModels()) {
    if (m.name != o.model) continue;
    out.payloads.vocab_size = m.vocab_size;
    if (!have_bbox) out.payloads.with_bbox = m.family == workloads::ModelFamily::kLayoutLM;
    if (!have_seq_len) out.payloads.seq_len = std::min<std::int64_t>(512, m.max_positions);
  }
  if (o.protocol != Protocol::kKServe && !have_seq_len && o.protocol != Protocol::kRaw) {
    // OpenAI prompts: documents of at most 128 tokens unless told otherwise.
    out.payloads.seq_len = 128;
  }
  return out;
}

}  // namespace joulebench::http
