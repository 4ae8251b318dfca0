// An HTTPS client for one BMC's Redfish service, on libcurl: one easy handle reused for every
// request (keep-alive: one TCP connection and one TLS handshake for a whole run), HTTP Basic
// authentication, a connect and a total timeout on every call, TLS verification on unless
// asked otherwise, and no redirects (they would carry the password to another host).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace joulebench::energy {

struct BmcHttpSettings {
  std::string base_url;  // "https://host[:port]", no trailing slash
  std::string user;
  std::string password;   // sent in the Authorization header only; never logged
  std::string ca_file;    // PEM bundle to verify against; empty: the system's CA store
  bool insecure = false;  // accept any certificate and host name
  // Connecting (TCP and TLS) and the whole request each have this limit.
  std::chrono::milliseconds timeout{5000};
};

// Why a request got no HTTP answer.
enum class HttpFailure {
  kNone,       // an HTTP answer came (look at status)
  kTimeout,    // no answer within the timeout
  kTls,        // TLS handshake or certificate verification failed
  kConnect,    // the connection was refused or the host is unreachable
  kResolve,    // the host name does not resolve
  kCancelled,  // Cancel() was called
  kTooLarge,   // the body exceeded kMaxBodyBytes
  kOther,
};

struct HttpResponse {
  HttpFailure failure = HttpFailure::kNone;
  long status = 0;    // HTTP status code when failure == kNone
  std::string body;   // the body, when failure == kNone
  std::string error;  // libcurl's description when failure != kNone (never holds the password)
};

class BmcHttpClient {
 public:
  // Bodies larger than this are refused (a Redfish resource is a few kB).
  static constexpr std::size_t kMaxBodyBytes = 8 << 20;

  // Throws EnvironmentError when libcurl cannot create a handle.
  explicit BmcHttpClient(BmcHttpSettings settings);
  ~BmcHttpClient();
  BmcHttpClient(const BmcHttpClient&) = delete;
  BmcHttpClient& operator=(const BmcHttpClient&) = delete;

  // GET base_url + path (path starts with '/'). Never throws for network or HTTP problems:
  // the response says what happened. The returned reference is valid until the next Get.
  const HttpResponse& Get(std::string_view path);

  // Thread-safe: makes a Get in progress return kCancelled within about a second (libcurl
  // calls its progress callback at least once a second), and every later Get at once.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  // TCP connections opened so far: 1 while the BMC keeps the connection alive.
  long connections_opened() const { return connections_opened_; }
  const BmcHttpSettings& settings() const { return settings_; }

 private:
  static std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* self);
  static int OnProgress(void* self, long long, long long, long long, long long);

  BmcHttpSettings settings_;
  void* curl_ = nullptr;         // CURL*
  void* headers_ = nullptr;      // curl_slist*
  std::string url_;              // reused buffer for base_url + path
  char error_buffer_[256] = {};  // CURL_ERROR_SIZE
  HttpResponse response_;
  bool body_too_large_ = false;
  long connections_opened_ = 0;
  std::atomic<bool> cancelled_{false};
};

// "timed out", "TLS failure", ...: for messages.
std::string_view HttpFailureName(HttpFailure failure);

}  // namespace joulebench::energy
