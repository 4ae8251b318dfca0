#include "joulebench/printable_text.h"

#include <cstdint>

namespace joulebench {
namespace {

// The length of the well-formed UTF-8 character at the start of `s` (RFC 3629, section 4:
// no overlong forms, no surrogates, nothing above U+10FFFF); 0 when there is none.
std::size_t CharacterLength(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const auto in = [&](std::size_t i, std::uint8_t lo, std::uint8_t hi) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const std::uint8_t b = byte(0);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (b == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (b == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (b == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

}  // namespace

std::string PrintableText(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes + 3);
  while (!text.empty()) {
    std::size_t n = CharacterLength(text);
    const bool valid = n > 0;
    if (!valid) n = 1;
    if (out.size() + (valid ? n : 1) > max_bytes) {
      out += "...";
      return out;
    }
    const char c = text.front();
    if (!valid) {
      out += '?';
    } else if ((n == 1 && (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)) ||
               (n == 2 && static_cast<unsigned char>(c) == 0xC2 &&
                static_cast<unsigned char>(text[1]) <= 0x9F)) {
      out += ' ';  // C0 and C1 controls (U+0080..U+009F): ESC, CSI and the like

    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

}  // namespace joulebench
