// Text from the outside world (a server's reply, a driver's device name, a process's command
// name) made fit to print on a terminal and to store: JSON, and so the run store, holds only
// valid UTF-8 (nlohmann::json refuses to write anything else), and a control character in a
// message would garble the terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace joulebench {

// `text` with each control character (C0, DEL and C1) replaced by ' ' and each byte
// that does not belong to a well-formed UTF-8 character replaced by '?'. At most `max_bytes`
// bytes of the result are kept, never cutting a character in two; "..." marks a cut.
std::string PrintableText(std::string_view text, std::size_t max_bytes = std::string::npos);

}  // namespace joulebench
