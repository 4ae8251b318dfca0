// The HTTP system under test: one I/O thread drives a libcurl multi handle. libcurl keeps
// the connection pool (keep-alive; HTTP/2 streams multiplexed on it); we keep at most
// `max_in_flight` transfers in it and queue the rest, so a slow server makes queries wait
// in our queue with their latency running from the scheduled time.
#include "joulebench/http/http_sut.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <time.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "http/reply_check.h"
#include "joulebench/error.h"
#include "joulebench/printable_text.h"
#include "joulebench/units.h"

namespace joulebench::http {
namespace {

std::int64_t MonotonicNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// libcurl's global state, initialised once for the process (curl_global_init is not
// thread-safe before 7.84, so it is done under a static's guard).
void InitCurlOnce() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) {
    throw EnvironmentError(
        fmt::format("libcurl could not be initialised: {}", curl_easy_strerror(code)));
  }
}

// The URL a protocol sends to: its standard path appended to a bare server address.
std::string Endpoint(const HttpSutOptions& o) {
  std::string url = o.url;
  const std::size_t scheme = url.find("://");
  const std::size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const bool bare = path == std::string::npos || url.substr(path) == "/";
  if (!bare || o.protocol == Protocol::kRaw) return url;
  if (path != std::string::npos) url.erase(path);
  switch (o.protocol) {
    case Protocol::kKServe:
      return url + "/v2/models/" + o.model + "/infer";
    case Protocol::kOpenAiCompletions:
      return url + "/v1/completions";
    case Protocol::kOpenAiChat:
      return url + "/v1/chat/completions";
    case Protocol::kRaw:
      break;
  }
  return url;
}

load::FailureKind KindOfCurlError(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return load::FailureKind::kTimeout;
    case CURLE_COULDNT_CONNECT:
      return load::FailureKind::kRefused;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
      return load::FailureKind::kReset;
    // Bytes that are not an HTTP status line are "HTTP/0.9", which libcurl refuses with
    // CURLE_UNSUPPORTED_PROTOCOL (the URL's scheme was checked when the spec was parsed).
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
      return load::FailureKind::kMalformed;
    default:
      return load::FailureKind::kTransport;
  }
}

// Bytes of a failed reply kept for the error message.
constexpr std::size_t kKeptHeadBytes = 200;
// Largest reply body kept for checking (a larger one is a malformed reply).
constexpr std::size_t kMaxReplyBytes = std::size_t{64} << 20;

}  // namespace

struct HttpSut::Impl {
  struct Pending {
    load::Query query;
    load::QueryCompleter* completer;
  };
  struct Transfer {
    Impl* owner = nullptr;
    CURL* easy = nullptr;
    load::QueryId id = 0;
    load::QueryCompleter* completer = nullptr;
    std::string reply;  // whole body when it is checked; else the first bytes
    std::size_t reply_bytes = 0;
    bool too_long = false;
    std::vector<std::int64_t> token_times;
    SseStreamParser sse{false};
    char error[CURL_ERROR_SIZE] = {};
  };

  HttpSutOptions options;
  std::shared_ptr<const RequestPayloads> payloads;
  std::string endpoint;
  bool check_body = true;  // keep and check the whole reply (not for raw)
  bool streaming = false;  // OpenAI stream=true
  int max_in_flight = 1;

  CURLM* multi = nullptr;
  curl_slist* headers = nullptr;
  std::vector<std::unique_ptr<Transfer>> transfers;
  std::vector<Transfer*> idle;
  int running = 0;  // transfers in the multi handle

  std::mutex queue_mutex;
  std::vector<Pending> incoming;  // filled by IssueQuery
  std::deque<Pending> waiting;    // I/O thread only: no free transfer yet
  std::atomic<bool> stop{false};
  std::atomic<bool> sleeping{false};
  std::thread io;

  mutable std::mutex stats_mutex;
  HttpSutStats stats;

  ~Impl() {
    for (auto& t : transfers) {
      if (t->easy != nullptr) {
        curl_multi_remove_handle(multi, t->easy);
        curl_easy_cleanup(t->easy);
      }
    }
    if (multi != nullptr) curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
  }

  static std::size_t OnData(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t bytes = size * n;
    t->reply_bytes += bytes;
    const std::string_view chunk(data, bytes);
    const Impl& impl = *t->owner;
    if (impl.streaming) {
      t->sse.Feed(chunk, MonotonicNs(), t->token_times);
      if (t->reply.size() < kKeptHeadBytes) t->reply.append(chunk.substr(0, kKeptHeadBytes));
    } else if (impl.check_body) {
      if (t->reply.size() + bytes > kMaxReplyBytes) {
        t->too_long = true;
      } else {
        t->reply.append(chunk);
      }
    } else if (t->reply.size() < kKeptHeadBytes) {
      t->reply.append(chunk.substr(0, kKeptHeadBytes - t->reply.size()));
    }
    return bytes;
  }

  void Setopt(CURL* easy, CURLoption option, auto value) {
    const CURLcode code = curl_easy_setopt(easy, option, value);
    if (code != CURLE_OK) {
      throw EnvironmentError(
          fmt::format("libcurl refused an option of the HTTP SUT: {}", curl_easy_strerror(code)));
    }
  }

  void Build() {
    InitCurlOnce();
    endpoint = Endpoint(options);
    check_body = options.protocol != Protocol::kRaw;
    streaming = options.stream && (options.protocol == Protocol::kOpenAiCompletions ||
                                   options.protocol == Protocol::kOpenAiChat);
    const bool h2 = options.http_version == HttpVersion::k2;
    if (h2 && (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) == 0) {
      throw EnvironmentError("http=2: this libcurl was built without HTTP/2 (nghttp2)");
    }
    // libcurl before 8.0.0 breaks a reused h2c connection when it was opened with prior
    // knowledge ("Error in the HTTP2 framing layer" from the second request on: curl issue
    // 10634, fixed in 8.0.0), so HTTP/2 in the clear would fail all but one request per
    // connection. Debian 12 ships 7.88.1: say so instead of measuring failures.
    const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
    if (h2 && !endpoint.starts_with("https://") && curl->version_num < 0x080000) {
      throw EnvironmentError(fmt::format(
          "http=2 on an http:// URL (h2c with prior knowledge) needs libcurl 8.0.0 or newer: "
          "libcurl {} fails every request after the first on a connection (curl issue 10634); "
          "use an https:// URL (HTTP/2 through TLS ALPN) or http=1.1",
          curl->version));
    }
    max_in_flight =
        h2 ? options.max_connections * options.max_streams_per_connection : options.max_connections;
    multi = curl_multi_init();
    if (multi == nullptr) throw EnvironmentError("libcurl: curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(options.max_connections));
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options.max_connections));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(options.max_connections));
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, h2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    if (h2) {
      curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                        static_cast<long>(options.max_streams_per_connection));
    }
    // "Expect:" stops libcurl from waiting for 100-continue before large bodies.
    std::vector<std::string> lines = {"Expect:"};
    if (options.protocol == Protocol::kRaw) {
      lines.push_back("Content-Type: " + options.content_type);
    } else {
      lines.push_back("Content-Type: application/json");
    }
    if (streaming) lines.push_back("Accept: text/event-stream");
    for (const auto& h : options.headers) lines.push_back(h);
    for (const auto& line : lines) {
      curl_slist* grown = curl_slist_append(headers, line.c_str());
      if (grown == nullptr) throw EnvironmentError("libcurl: out of memory for headers");
      headers = grown;
    }
    const long version = !h2                                ? CURL_HTTP_VERSION_1_1
                         : endpoint.starts_with("https://") ? CURL_HTTP_VERSION_2TLS
                                                            : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    for (int i = 0; i < max_in_flight; ++i) {
      auto t = std::make_unique<Transfer>();
      t->owner = this;
      t->sse = SseStreamParser(options.protocol == Protocol::kOpenAiChat);
      t->easy = curl_easy_init();
      if (t->easy == nullptr) throw EnvironmentError("libcurl: curl_easy_init failed");
      CURL* e = t->easy;
      Setopt(e, CURLOPT_URL, endpoint.c_str());
      Setopt(e, CURLOPT_HTTP_VERSION, version);
      Setopt(e, CURLOPT_HTTPHEADER, headers);
      Setopt(e, CURLOPT_NOSIGNAL, 1L);
      Setopt(e, CURLOPT_TCP_NODELAY, 1L);
      Setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
             static_cast<long>(
                 std::max<std::int64_t>(1, options.connect_timeout.count() / 1'000'000)));
      Setopt(e, CURLOPT_TIMEOUT_MS,
             static_cast<long>(std::max<std::int64_t>(1, options.timeout.count() / 1'000'000)));
      Setopt(e, CURLOPT_WRITEFUNCTION, &Impl::OnData);
      Setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
      Setopt(e, CURLOPT_PRIVATE, static_cast<void*>(t.get()));
      Setopt(e, CURLOPT_ERRORBUFFER, t->error);
      if (h2) Setopt(e, CURLOPT_PIPEWAIT, 1L);
      if (!options.verify_tls) {
        Setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        Setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
      }
      if (!options.ca_file.empty()) Setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
      t->reply.reserve(check_body ? 4096 : kKeptHeadBytes);
      idle.push_back(t.get());
      transfers.push_back(std::move(t));
    }
  }

  void Start(Transfer* t, const Pending& p) {
    t->id = p.query.id;
    t->completer = p.completer;
    t->reply.clear();
    t->reply_bytes = 0;
    t->too_long = false;
    t->token_times.clear();
    t->sse.Reset();
    t->error[0] = '\0';
    const std::string_view body = payloads->Body(p.query.sample_index);
    if (body.empty()) {
      curl_easy_setopt(t->easy, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, body.data());
    }
    curl_multi_add_handle(multi, t->easy);
    ++running;
  }

  // Classifies one finished transfer into a response; writes the reason of a failure.
  load::QueryResponse Finish(Transfer* t, CURLcode code, std::string* why) {
    load::QueryResponse r{t->id, true};
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) {
      r.ok = false;
      r.failure = KindOfCurlError(code);
      *why = fmt::format("{} ({})", t->error[0] != '\0' ? t->error : curl_easy_strerror(code),
                         endpoint);
      return r;
    }
    // Stored in the run's warnings (JSON): printable UTF-8 only.
    auto head = [&] { return PrintableText(t->reply, kKeptHeadBytes); };
    if (status < 200 || status >= 300) {
      r.ok = false;
      r.failure = status >= 500   ? load::FailureKind::kServerError
                  : status >= 400 ? load::FailureKind::kClientError
                                  : load::FailureKind::kMalformed;
      *why = fmt::format("HTTP {} from {}: {}", status, endpoint, head());
      return r;
    }
    bool ok = true;
    std::string reason;
    if (streaming) {
      ok = t->sse.Finish(&reason);
      if (ok) r.token_times_ns = t->token_times;
    } else if (t->too_long) {
      ok = false;
      reason = fmt::format("reply longer than {} bytes", kMaxReplyBytes);
    } else if (options.protocol == Protocol::kKServe) {
      ok = CheckKServeReply(t->reply, &reason);
    } else if (options.protocol != Protocol::kRaw) {
      ok = CheckOpenAiReply(t->reply, options.protocol == Protocol::kOpenAiChat, &reason);
    }
    if (!ok) {
      r.ok = false;
      r.failure = load::FailureKind::kMalformed;
      *why = fmt::format("malformed reply from {}: {}", endpoint, reason);
    }
    return r;
  }

  void Harvest(std::vector<load::QueryResponse>& responses, std::vector<Transfer*>& done) {
    responses.clear();
    done.clear();
    HttpSutStats delta;
    std::array<std::string, load::kFailureKindCount> reasons;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      std::string why;
      const load::QueryResponse r = Finish(t, m->data.result, &why);
      long version = 0;
      curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
      long connects = 0;
      curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
      curl_off_t sent = 0;
      curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
      ++delta.requests;
      delta.connections_opened += static_cast<std::uint64_t>(connects);
      if (version == CURL_HTTP_VERSION_2_0) ++delta.http2_replies;
      if (version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1) {
        ++delta.http1_replies;
      }
      delta.request_bytes += static_cast<std::uint64_t>(sent);
      delta.reply_bytes += t->reply_bytes;
      if (!r.ok) {
        const auto k = static_cast<std::size_t>(r.failure);
        ++delta.failed_by_kind[k];
        if (reasons[k].empty()) reasons[k] = std::move(why);
      }
      curl_multi_remove_handle(multi, t->easy);
      --running;
      responses.push_back(r);
      done.push_back(t);
    }
    if (responses.empty()) return;
    {
      std::lock_guard lock(stats_mutex);
      stats.requests += delta.requests;
      stats.connections_opened += delta.connections_opened;
      stats.http1_replies += delta.http1_replies;
      stats.http2_replies += delta.http2_replies;
      stats.request_bytes += delta.request_bytes;
      stats.reply_bytes += delta.reply_bytes;
      for (std::size_t k = 0; k < load::kFailureKindCount; ++k) {
        stats.failed_by_kind[k] += delta.failed_by_kind[k];
        if (stats.first_failure[k].empty() && !reasons[k].empty()) {
          stats.first_failure[k] = std::move(reasons[k]);
        }
      }
    }
    // Complete in runs of the same completer (one per scenario run), then free the transfers
    // (token_times_ns point into them until Complete returns).
    std::size_t begin = 0;
    for (std::size_t i = 1; i <= responses.size(); ++i) {
      if (i == responses.size() || done[i]->completer != done[begin]->completer) {
        done[begin]->completer->Complete(
            std::span<const load::QueryResponse>(responses.data() + begin, i - begin));
        begin = i;
      }
    }
    for (Transfer* t : done) idle.push_back(t);
  }

  void Loop() {
    std::vector<Pending> taken;
    std::vector<load::QueryResponse> responses;
    std::vector<Transfer*> done;
    responses.reserve(static_cast<std::size_t>(max_in_flight));
    done.reserve(static_cast<std::size_t>(max_in_flight));
    while (true) {
      {
        std::lock_guard lock(queue_mutex);
        taken.swap(incoming);
      }
      for (const Pending& p : taken) waiting.push_back(p);
      taken.clear();
      if (stop.load(std::memory_order_acquire) && waiting.empty() && running == 0) return;
      while (!idle.empty() && !waiting.empty()) {
        Start(idle.back(), waiting.front());
        idle.pop_back();
        waiting.pop_front();
      }
      int still = 0;
      curl_multi_perform(multi, &still);
      Harvest(responses, done);
      if (!done.empty() && !waiting.empty()) continue;  // freed transfers take queued work
      sleeping.store(true, std::memory_order_seq_cst);
      bool more = false;
      {
        std::lock_guard lock(queue_mutex);
        more = !incoming.empty();
      }
      if (!more && !stop.load(std::memory_order_seq_cst)) {
        curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
      }
      sleeping.store(false, std::memory_order_relaxed);
    }
  }
};

HttpSut::HttpSut(HttpSutOptions options, std::shared_ptr<const RequestPayloads> payloads)
    : impl_(std::make_unique<Impl>()) {
  if (payloads == nullptr || payloads->TotalSampleCount() == 0) {
    throw InputError("HTTP SUT: no request payloads");
  }
  if (options.max_connections < 1 || options.max_connections > 4096) {
    throw InputError(
        fmt::format("HTTP SUT: connections must be 1..4096 (got {})", options.max_connections));
  }
  if (options.max_streams_per_connection < 1 || options.max_streams_per_connection > 1000) {
    throw InputError(fmt::format("HTTP SUT: streams must be 1..1000 (got {})",
                                 options.max_streams_per_connection));
  }
  if (options.http_version == HttpVersion::k2 &&
      options.max_connections * options.max_streams_per_connection > 65536) {
    throw InputError("HTTP SUT: connections x streams must be at most 65536");
  }
  if (options.timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    throw InputError("HTTP SUT: timeouts must be positive");
  }
  impl_->options = std::move(options);
  impl_->payloads = std::move(payloads);
  impl_->Build();
  impl_->io = std::thread([impl = impl_.get()] { impl->Loop(); });
}

HttpSut::~HttpSut() {
  impl_->stop.store(true, std::memory_order_seq_cst);
  curl_multi_wakeup(impl_->multi);
  impl_->io.join();
}

std::string HttpSut::Name() const {
  const HttpSutOptions& o = impl_->options;
  std::string what(ProtocolName(o.protocol));
  if (o.protocol != Protocol::kRaw) what += " " + o.model;
  if (impl_->streaming) what += " streamed";
  const bool h2 = o.http_version == HttpVersion::k2;
  std::string pool =
      fmt::format("{} connection{}", o.max_connections, o.max_connections == 1 ? "" : "s");
  if (h2) pool += fmt::format(" x {} streams", o.max_streams_per_connection);
  return fmt::format("http({}, {}, {}, {})", what, impl_->endpoint, h2 ? "HTTP/2" : "HTTP/1.1",
                     pool);
}

void HttpSut::IssueQuery(std::span<const load::Query> queries, load::QueryCompleter& completer) {
  {
    std::lock_guard lock(impl_->queue_mutex);
    for (const load::Query& q : queries) impl_->incoming.push_back({q, &completer});
  }
  if (impl_->sleeping.load(std::memory_order_seq_cst)) curl_multi_wakeup(impl_->multi);
}

const std::shared_ptr<const RequestPayloads>& HttpSut::payloads() const { return impl_->payloads; }
const HttpSutOptions& HttpSut::options() const { return impl_->options; }
const std::string& HttpSut::endpoint() const { return impl_->endpoint; }

HttpSutStats HttpSut::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

}  // namespace joulebench::http
