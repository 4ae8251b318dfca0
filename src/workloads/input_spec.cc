#include "joulebench/workloads/input_spec.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

constexpr std::array<std::string_view, 6> kDtypes{"int64",   "int32",    "float32",
                                                  "float16", "bfloat16", "bool"};

[[noreturn]] void Bad(std::string_view text, std::string_view why) {
  throw InputError(fmt::format(
      "--input '{}': {}; write name:dtype[d0,d1,...], e.g. input_ids:int64[8,512] (dtypes: "
      "int64, int32, float32, float16, bfloat16, bool)",
      text, why));
}

}  // namespace

std::int64_t InputSpec::element_count() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

InputSpec ParseInputSpec(std::string_view text) {
  InputSpec spec;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) Bad(text, "no name before ':'");
  spec.name = std::string(text.substr(0, colon));
  const auto open = text.find('[', colon);
  if (open == std::string_view::npos || text.back() != ']') Bad(text, "no [shape]");
  spec.dtype = std::string(text.substr(colon + 1, open - colon - 1));
  bool known = false;
  for (auto d : kDtypes) known |= spec.dtype == d;
  if (!known) Bad(text, fmt::format("unknown dtype '{}'", spec.dtype));
  std::string_view dims = text.substr(open + 1, text.size() - open - 2);
  std::int64_t elements = 1;
  while (!dims.empty()) {
    const auto comma = dims.find(',');
    std::string_view part = dims.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    std::int64_t d = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), d);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || d < 1) {
      Bad(text, fmt::format("dimension '{}' is not a whole number >= 1", part));
    }
    // Checked before multiplying: the product of two large dimensions overflows int64.
    if (d > (std::int64_t{1} << 34) / elements) Bad(text, "too many elements");
    elements *= d;
    spec.shape.push_back(d);
    if (comma == std::string_view::npos) break;
    dims.remove_prefix(comma + 1);
    if (dims.empty()) Bad(text, "empty dimension after ','");
  }
  return spec;
}

}  // namespace joulebench::workloads
