#include "energy/bmc_http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <mutex>

#include "joulebench/error.h"

namespace joulebench::energy {
namespace {

// curl_global_init is not thread-safe before libcurl 7.84 and must run before any handle.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CURL* Handle(void* p) { return static_cast<CURL*>(p); }

HttpFailure Classify(CURLcode code, bool too_large) {
  switch (code) {
    case CURLE_OK:
      return HttpFailure::kNone;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpFailure::kTimeout;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      return HttpFailure::kTls;
    case CURLE_COULDNT_CONNECT:
      return HttpFailure::kConnect;
    case CURLE_COULDNT_RESOLVE_HOST:
      return HttpFailure::kResolve;
    case CURLE_ABORTED_BY_CALLBACK:
      return HttpFailure::kCancelled;
    case CURLE_WRITE_ERROR:
      return too_large ? HttpFailure::kTooLarge : HttpFailure::kOther;
    default:
      return HttpFailure::kOther;
  }
}

}  // namespace

std::string_view HttpFailureName(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::kNone:
      return "answered";
    case HttpFailure::kTimeout:
      return "timed out";
    case HttpFailure::kTls:
      return "TLS failure";
    case HttpFailure::kConnect:
      return "cannot connect";
    case HttpFailure::kResolve:
      return "unknown host";
    case HttpFailure::kCancelled:
      return "cancelled";
    case HttpFailure::kTooLarge:
      return "answer too large";
    case HttpFailure::kOther:
      return "failed";
  }
  return "failed";
}

BmcHttpClient::BmcHttpClient(BmcHttpSettings settings) : settings_(std::move(settings)) {
  GlobalInit();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw EnvironmentError("libcurl cannot create a handle (out of memory?)");
  curl_ = curl;
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  // Redfish clients send the OData version they speak (DSP0266, "Request headers").
  headers = curl_slist_append(headers, "OData-Version: 4.0");
  headers_ = headers;
  const long timeout_ms = static_cast<long>(settings_.timeout.count());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // Signals cannot interrupt a resolver in a multi-threaded program; timeouts still apply.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "joulebench");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer_);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &BmcHttpClient::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &BmcHttpClient::OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
  if (!settings_.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  if (settings_.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings_.ca_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
    }
  }
  response_.body.reserve(16 << 10);
}

BmcHttpClient::~BmcHttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(Handle(curl_));
  if (headers_ != nullptr) curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

std::size_t BmcHttpClient::OnBody(char* data, std::size_t size, std::size_t count, void* self) {
  auto* client = static_cast<BmcHttpClient*>(self);
  const std::size_t bytes = size * count;
  if (client->response_.body.size() + bytes > kMaxBodyBytes) {
    client->body_too_large_ = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  client->response_.body.append(data, bytes);
  return bytes;
}

int BmcHttpClient::OnProgress(void* self, long long, long long, long long, long long) {
  return static_cast<BmcHttpClient*>(self)->cancelled_.load(std::memory_order_relaxed) ? 1 : 0;
}

const HttpResponse& BmcHttpClient::Get(std::string_view path) {
  response_.failure = HttpFailure::kNone;
  response_.status = 0;
  response_.body.clear();
  response_.error.clear();
  if (cancelled_.load(std::memory_order_relaxed)) {
    response_.failure = HttpFailure::kCancelled;
    response_.error = "cancelled";
    return response_;
  }
  body_too_large_ = false;
  error_buffer_[0] = '\0';
  url_.assign(settings_.base_url);
  url_.append(path);
  CURL* curl = Handle(curl_);
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  const CURLcode code = curl_easy_perform(curl);
  long connects = 0;
  if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
    connections_opened_ += connects;
  }
  response_.failure = Classify(code, body_too_large_);
  if (response_.failure != HttpFailure::kNone) {
    response_.body.clear();
    if (response_.failure == HttpFailure::kTooLarge) {
      response_.error = fmt::format("the answer is larger than {} MiB", kMaxBodyBytes >> 20);
    } else {
      response_.error = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
    }
    return response_;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response_.status);
  return response_;
}

}  // namespace joulebench::energy
