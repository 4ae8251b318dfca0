// Where a metrics endpoint listens (`--listen`, `--metrics-listen`), parsed from HOST:PORT.
#pragma once

#include <string>
#include <string_view>

namespace joulebench::exporter {

// Where a metrics endpoint listens: a numeric address and a port.
struct ListenAddress {
  std::string host;              // numeric IPv4 ("127.0.0.1", "0.0.0.0") or IPv6 ("::1") address
  int port = 0;                  // 0: any free port (the server reports the one it got)
  std::string ToString() const;  // "127.0.0.1:9464", "[::1]:9464"
};

// The default: loopback only, on the port the OpenTelemetry Prometheus exporter uses.
inline constexpr std::string_view kDefaultListen = "127.0.0.1:9464";

// Parses HOST:PORT: HOST is an IPv4 address, "[IPv6]", or a name resolved to its first IPv4
// address ("localhost"); ":PORT" listens on every IPv4 interface. PORT is 0 to 65535.
// Throws InputError naming `flag` (e.g. "--listen") with an example of the accepted form.
ListenAddress ParseListenAddress(std::string_view text, std::string_view flag);

}  // namespace joulebench::exporter
