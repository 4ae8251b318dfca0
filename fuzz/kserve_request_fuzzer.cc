// Inference requests that `joulebench serve` receives from the network (KServe v2 JSON
// tensors). A request is refused with std::invalid_argument (a 400 reply) or becomes rows whose
// shapes and values the model can run: every id in the vocabulary, every tensor exactly
// [batch, tokens] (x 4 for boxes), no row longer than the model's positions.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz_support.h"
#include "http/kserve_service.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using joulebench::fuzz::Check;
  namespace http = joulebench::http;
  static const http::KServeModel kModel = [] {
    http::KServeModel m;
    m.name = "layoutlm-base";
    return m;
  }();
  const std::string body(joulebench::fuzz::AsText(data, size));
  http::KServeInferRequest request;
  try {
    request = http::ParseKServeInferRequest(body, kModel);
  } catch (const std::invalid_argument& e) {
    joulebench::fuzz::CheckStorable(e.what(), "400 reason");
    return 0;
  }
  const auto& r = request.rows;
  Check(r.batch_size >= 1 && r.seq_len >= 1 && r.seq_len <= kModel.max_seq_len, "shape");
  // A row costs at least a few bytes of JSON per token: more cells than the body has bytes is
  // a shape the body cannot have filled.
  Check(r.batch_size <= static_cast<std::int64_t>(body.size()) &&
            r.batch_size * r.seq_len <= static_cast<std::int64_t>(body.size()),
        "more cells than bytes in the request");
  const auto cells = static_cast<std::size_t>(r.batch_size * r.seq_len);
  Check(r.input_ids.size() == cells && r.attention_mask.size() == cells &&
            r.token_type_ids.size() == cells && r.bbox.size() == 4 * cells,
        "tensor sizes differ from [batch, tokens]");
  for (const auto id : r.input_ids) Check(id >= 0 && id < kModel.vocab_size, "token id");
  return 0;
}
