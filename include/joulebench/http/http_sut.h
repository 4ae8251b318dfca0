// An HTTP inference server as a system under test: every query becomes one HTTP request to a
// server (Triton / KServe v2 REST, an OpenAI-compatible server, or any endpoint with a raw
// body), sent through a libcurl multi handle on one I/O thread with a keep-alive connection
// pool (HTTP/1.1, or HTTP/2 multiplexed: h2c with prior knowledge on http://, ALPN on
// https://). The load generator's scenarios, steady state and peak search drive it like any
// other SUT; latency counts from each query's scheduled time (the generator's clock), so a
// server or a connection pool that falls behind shows in the result.
//
// Every reply is checked against its protocol: 2xx with a well-formed body is a success;
// everything else completes the query with ok = false and a FailureKind (5xx, 4xx, timeout,
// refused, reset, malformed), which the run counts by kind.
//
//   auto spec = joulebench::http::ParseHttpSutSpec(
//       "http:url=http://127.0.0.1:8000,protocol=kserve,model=layoutlm-base,connections=8");
//   joulebench::http::HttpSut sut(spec.sut, joulebench::http::MakePayloads(spec));
//   joulebench::load::RunScenario(sut, *sut.payloads(), settings);
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/load/query_sample_library.h"
#include "joulebench/load/system_under_test.h"

namespace joulebench::http {

enum class Protocol {
  // KServe v2 / Triton REST: POST {url}/v2/models/{model}/infer with JSON tensors
  // (input_ids, attention_mask, token_type_ids and, for LayoutLM, bbox); a reply is valid
  // when it is a JSON object with a non-empty "outputs" array.
  kKServe,
  // OpenAI-compatible POST {url}/v1/completions: "prompt" (token ids from the synthetic
  // generator, or a line of a prompt file), "max_tokens", "stream".
  kOpenAiCompletions,
  // OpenAI-compatible POST {url}/v1/chat/completions: one user message.
  kOpenAiChat,
  // The URL as given; POST of a body (a file, or one line of a samples file), or GET when
  // there is no body. Any 2xx reply is valid.
  kRaw,
};
std::string_view ProtocolName(Protocol protocol);  // "kserve", "openai-completions", ...

enum class HttpVersion {
  k1_1,  // HTTP/1.1, one request per connection at a time (keep-alive, no pipelining)
  // HTTP/2, multiplexed: TLS + ALPN on https://; h2c with prior knowledge on http://, which
  // needs libcurl >= 8.0.0 (older ones fail reused h2c connections: curl issue 10634).
  k2,
};

struct HttpSutOptions {
  // Endpoint. For kserve and openai-* a URL without a path (or with "/") gets the protocol's
  // path appended; a URL with a path is used as is. Required.
  std::string url;
  Protocol protocol = Protocol::kKServe;
  // KServe model name in the path; OpenAI "model" field. Default layoutlm-base.
  std::string model = "layoutlm-base";
  HttpVersion http_version = HttpVersion::k1_1;
  // Most connections open at once (the pool size). Requests beyond what the connections can
  // carry wait in the SUT's queue (their latency keeps counting). Default 8, 1..4096.
  int max_connections = 8;
  // HTTP/2: most concurrent streams per connection. Default 100 (1..1000).
  int max_streams_per_connection = 100;
  // Connecting (TCP + TLS) must finish within this; default 5 s.
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);
  // The whole request, from its start in the I/O thread to the last byte of the reply;
  // default 30 s. A request still waiting for a free connection is not yet started.
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  std::vector<std::string> headers;  // extra request headers, "Name: value"
  bool verify_tls = true;            // false = accept any certificate (insecure=1)
  std::string ca_file;               // PEM bundle to verify the server with ("" = system's)
  // Content-Type of raw bodies; default application/octet-stream.
  std::string content_type = "application/octet-stream";
  // OpenAI: ask for a streamed reply (server-sent events); then time to first token and
  // inter-token latency are measured. Default true.
  bool stream = true;
  int max_tokens = 16;  // OpenAI "max_tokens", default 16
};

// Where request bodies come from.
struct PayloadOptions {
  // A file of samples, one per line ("" = synthetic): for kserve a line is a whole request
  // body (a JSON object); for openai-* a line that starts with '{' is a whole request body,
  // any other line is a prompt; for raw a line is sent as is.
  std::string samples_file;
  std::string body_file;  // raw: one body for every request (the whole file)
  // Synthetic documents (src/workloads/synthetic_documents.h): count, tokens per document,
  // vocabulary, seed, and whether boxes are sent (LayoutLM). Defaults follow the model
  // named in HttpSutOptions when it is a built-in one (bbox for LayoutLM, its vocabulary).
  std::size_t sample_count = 256;
  std::int64_t seq_len = 512;
  std::int64_t vocab_size = 30522;
  bool with_bbox = true;
  std::uint64_t seed = 1;
};

struct HttpSutSpec {
  HttpSutOptions sut;
  PayloadOptions payloads;
};

// True for "http:..." and "https:..." SUT specs.
bool IsHttpSutSpec(std::string_view spec);
// "http:url=URL[,protocol=kserve|openai-completions|openai-chat|raw][,model=NAME]
//  [,http=1.1|2][,connections=N][,streams=N][,connect_timeout=D][,timeout=D]
//  [,header=Name: value]...[,insecure=1][,cacert=FILE][,content_type=TYPE][,stream=0|1]
//  [,max_tokens=N][,samples=N][,seq_len=N][,seed=N][,bbox=0|1][,samples_file=FILE]
//  [,body=FILE]". Items are separated by commas (a comma inside a value must be written
// %2C). Throws InputError naming the bad item and what is accepted.
HttpSutSpec ParseHttpSutSpec(std::string_view spec);

// The request bodies, one per sample index, built before timing starts.
class RequestPayloads final : public load::QuerySampleLibrary {
 public:
  RequestPayloads(std::string name, std::vector<std::string> bodies);
  std::string Name() const override { return name_; }
  std::size_t TotalSampleCount() const override { return bodies_.size(); }
  // Empty string_view = no body (raw GET).
  std::string_view Body(load::SampleIndex index) const { return bodies_[index % bodies_.size()]; }
  std::size_t total_bytes() const;

 private:
  std::string name_;
  std::vector<std::string> bodies_;
};

// Builds the bodies for `spec.sut.protocol` from the synthetic generator or the files.
// Throws InputError (unreadable file, a line that is not JSON where JSON is needed).
std::shared_ptr<const RequestPayloads> MakePayloads(const HttpSutSpec& spec);

// What the SUT saw, over its whole life (every run and probe).
struct HttpSutStats {
  std::uint64_t requests = 0;            // completed requests, failed ones included
  std::uint64_t connections_opened = 0;  // new TCP connections libcurl made
  std::uint64_t http1_replies = 0;       // replies received over HTTP/1.x
  std::uint64_t http2_replies = 0;       // replies received over HTTP/2
  std::uint64_t request_bytes = 0;       // bodies sent
  std::uint64_t reply_bytes = 0;         // bodies received
  std::array<std::uint64_t, load::kFailureKindCount> failed_by_kind{};
  // The first failure of each kind, one sentence ("" for kinds that did not occur), e.g.
  // "HTTP 500 from http://127.0.0.1:8000/v2/models/m/infer: overloaded".
  std::array<std::string, load::kFailureKindCount> first_failure;
};

class HttpSut final : public load::SystemUnderTest {
 public:
  // Starts the I/O thread. Throws InputError on bad options, EnvironmentError when libcurl
  // cannot be initialised or lacks HTTP/2 while it is asked for.
  HttpSut(HttpSutOptions options, std::shared_ptr<const RequestPayloads> payloads);
  ~HttpSut() override;
  HttpSut(const HttpSut&) = delete;
  HttpSut& operator=(const HttpSut&) = delete;

  // "http(kserve layoutlm-base, http://127.0.0.1:8000/v2/models/layoutlm-base/infer,
  // HTTP/1.1, 8 connections)".
  std::string Name() const override;
  // Queues the queries for the I/O thread and wakes it; never blocks on the network.
  void IssueQuery(std::span<const load::Query> queries, load::QueryCompleter& completer) override;

  const std::shared_ptr<const RequestPayloads>& payloads() const;
  const HttpSutOptions& options() const;
  const std::string& endpoint() const;  // the URL requests go to
  HttpSutStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench::http
