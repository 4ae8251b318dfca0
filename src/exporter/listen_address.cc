#include "joulebench/exporter/listen_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>

#include "joulebench/error.h"

namespace joulebench::exporter {
namespace {

std::string Example(std::string_view flag) {
  return fmt::format(
      "e.g. {} 127.0.0.1:9464 (this machine only) or {} 0.0.0.0:9464 (every "
      "interface)",
      flag, flag);
}

bool IsIpv4(const std::string& host) {
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& host) {
  in6_addr a{};
  return inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

// The first IPv4 address of a host name, or "" when it has none.
std::string ResolveIpv4(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return "";
  char text[INET_ADDRSTRLEN] = {};
  const auto* in = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  const bool ok = inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr;
  freeaddrinfo(found);
  return ok ? text : "";
}

}  // namespace

std::string ListenAddress::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

ListenAddress ParseListenAddress(std::string_view text, std::string_view flag) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    throw InputError(
        fmt::format("{} '{}' has no port: give HOST:PORT, {}", flag, text, Example(flag)));
  }
  const std::string_view port_text = text.substr(colon + 1);
  int port = -1;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    throw InputError(
        fmt::format("{} '{}': the port '{}' must be a number from 0 to 65535 (0: any "
                    "free port), {}",
                    flag, text, port_text, Example(flag)));
  }
  std::string host(text.substr(0, colon));
  ListenAddress address;
  address.port = port;
  if (host.empty()) {
    address.host = "0.0.0.0";
  } else if (host.front() == '[' && host.back() == ']' && IsIpv6(host.substr(1, host.size() - 2))) {
    address.host = host.substr(1, host.size() - 2);
  } else if (IsIpv4(host)) {
    address.host = host;
  } else if (IsIpv6(host)) {
    throw InputError(fmt::format("{} '{}': write an IPv6 address in brackets, e.g. [{}]:{}", flag,
                                 text, host, port));
  } else {
    address.host = ResolveIpv4(host);
    if (address.host.empty()) {
      throw InputError(
          fmt::format("{} '{}': '{}' is not an IP address nor a host name with an "
                      "IPv4 address; {}",
                      flag, text, host, Example(flag)));
    }
  }
  return address;
}

}  // namespace joulebench::exporter
