// What every fuzz target checks besides "no crash": the properties a parser of outside input
// must keep whatever the input (docs/reliability.md, "Fuzzing"). A broken property aborts with
// a message, which libFuzzer reports as a crash together with the input that broke it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::fuzz {

[[noreturn]] inline void Fail(std::string_view what) {
  std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

inline void Check(bool ok, std::string_view what) {
  if (!ok) Fail(what);
}

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Text that reaches a report, a JSON document or the store: nlohmann::json refuses to write
// invalid UTF-8 (it throws), so such text would lose the run it belongs to.
inline bool IsStorable(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

inline void CheckStorable(const std::string& text, std::string_view what) {
  if (!IsStorable(text)) Fail(std::string(what) + " is not valid UTF-8: " + text);
}

// A figure printed or planned with: a finite number (never inf or nan).
inline void CheckFinite(double value, std::string_view what) {
  if (!std::isfinite(value)) Fail(std::string(what) + " is not finite");
}

// The lines of the input, without their '\n'.
inline std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// Splits the input at lines that hold only `separator`: one fuzz input, several documents.
inline std::vector<std::string_view> SplitDocuments(std::string_view text,
                                                    std::string_view separator) {
  std::vector<std::string_view> out;
  std::size_t begin = 0;
  while (true) {
    std::size_t at = text.find(separator, begin);
    while (at != std::string_view::npos &&
           !((at == 0 || text[at - 1] == '\n') &&
             (at + separator.size() == text.size() || text[at + separator.size()] == '\n'))) {
      at = text.find(separator, at + 1);
    }
    if (at == std::string_view::npos) {
      out.push_back(text.substr(begin));
      return out;
    }
    out.push_back(text.substr(begin, at - begin));
    begin = std::min(text.size(), at + separator.size() + 1);
  }
}

}  // namespace joulebench::fuzz
