#include "joulebench/workloads/synthetic_documents.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

// Zipf exponent of word frequencies in English text (about 1; Piantadosi 2014).
constexpr double kZipfExponent = 1.0;
// Page layout, in normalised units: margins, line pitch, width of one character.
constexpr std::int64_t kMarginLeft = 60;
constexpr std::int64_t kMarginRight = 940;
constexpr std::int64_t kMarginTop = 50;
constexpr std::int64_t kMarginBottom = 950;
constexpr std::int64_t kLineHeight = 14;
constexpr std::int64_t kLinePitch = 22;
constexpr std::int64_t kCharWidth = 9;
constexpr std::int64_t kSpaceWidth = 8;

}  // namespace

std::int64_t FirstWordTokenId(std::int64_t vocab_size) {
  return vocab_size > 4000 ? 1996 : kMaskTokenId + 1;
}

DocumentGenerator::DocumentGenerator(DocumentOptions options)
    : options_(options), rng_(options.seed), first_word_id_(FirstWordTokenId(options.vocab_size)) {
  if (options_.seq_len < 3) {
    throw InputError(fmt::format(
        "--seq-len: {} is too short; a sequence needs at least [CLS], one word and [SEP] (3)",
        options_.seq_len));
  }
  if (options_.vocab_size <= first_word_id_) {
    throw InputError(fmt::format("vocabulary of {} tokens is too small for synthetic words",
                                 options_.vocab_size));
  }
  if (!(options_.median_fill > 0 && options_.median_fill <= 1) || !(options_.length_sigma >= 0)) {
    throw InputError("document length law: median fill must be in (0, 1], sigma >= 0");
  }
  const std::int64_t words = options_.vocab_size - first_word_id_;
  zipf_cdf_.resize(static_cast<std::size_t>(words));
  double sum = 0;
  for (std::int64_t rank = 0; rank < words; ++rank) {
    sum += 1.0 / std::pow(static_cast<double>(rank + 1), kZipfExponent);
    zipf_cdf_[static_cast<std::size_t>(rank)] = sum;
  }
  for (double& c : zipf_cdf_) c /= sum;
}

std::int64_t DocumentGenerator::DrawLength() {
  if (options_.full_length) return options_.seq_len;
  const double median = options_.median_fill * static_cast<double>(options_.seq_len);
  std::lognormal_distribution<double> law(std::log(median), options_.length_sigma);
  const auto length = static_cast<std::int64_t>(std::llround(law(rng_)));
  return std::clamp<std::int64_t>(length, 3, options_.seq_len);
}

std::int64_t DocumentGenerator::DrawWordId() {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  const auto it = std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
  const auto rank = std::min<std::ptrdiff_t>(it - zipf_cdf_.begin(),
                                             static_cast<std::ptrdiff_t>(zipf_cdf_.size()) - 1);
  return first_word_id_ + rank;
}

void DocumentGenerator::FillRow(DocumentBatch& batch, std::int64_t row, std::int64_t length) {
  const std::int64_t s = batch.seq_len;
  auto token = [&](std::int64_t pos) -> std::int64_t& { return batch.input_ids[row * s + pos]; };
  auto box = [&](std::int64_t pos, std::int64_t x0, std::int64_t y0, std::int64_t x1,
                 std::int64_t y1) {
    std::int64_t* b = &batch.bbox[(row * s + pos) * 4];
    b[0] = x0;
    b[1] = y0;
    b[2] = x1;
    b[3] = y1;
  };
  // [CLS] gets the empty box at the origin and [SEP] the full-page corner (LayoutLM's
  // fine-tuning code: cls_token_box [0,0,0,0], sep_token_box [1000,1000,1000,1000]).
  token(0) = kClsTokenId;
  box(0, 0, 0, 0, 0);
  std::uniform_int_distribution<int> pieces_law(1, 20);   // 1, 2 or 3 WordPieces per word
  std::uniform_int_distribution<std::int64_t> chars_law(2, 11);
  std::uniform_int_distribution<int> paragraph_law(1, 12);  // a new paragraph after 1 line in 12
  std::int64_t x = kMarginLeft;
  std::int64_t y = kMarginTop;
  std::int64_t pos = 1;
  while (pos < length - 1) {
    const int p = pieces_law(rng_);
    const std::int64_t pieces = p <= 15 ? 1 : (p <= 19 ? 2 : 3);
    const std::int64_t width = chars_law(rng_) * kCharWidth;
    if (x + width > kMarginRight) {
      x = kMarginLeft;
      y += paragraph_law(rng_) == 1 ? 2 * kLinePitch : kLinePitch;
      if (y + kLineHeight > kMarginBottom) y = kMarginTop;  // the next page
    }
    // Every WordPiece of a word shares the word's box.
    for (std::int64_t k = 0; k < pieces && pos < length - 1; ++k, ++pos) {
      token(pos) = DrawWordId();
      box(pos, x, y, x + width, y + kLineHeight);
    }
    x += width + kSpaceWidth;
  }
  token(length - 1) = kSepTokenId;
  box(length - 1, kPageExtent, kPageExtent, kPageExtent, kPageExtent);
  for (std::int64_t i = 0; i < length; ++i) batch.attention_mask[row * s + i] = 1;
  batch.lengths[row] = length;
}

DocumentBatch DocumentGenerator::Next(std::int64_t batch_size) {
  if (batch_size < 1) {
    throw InputError(fmt::format("batch size {} must be at least 1", batch_size));
  }
  DocumentBatch batch;
  batch.batch_size = batch_size;
  batch.seq_len = options_.seq_len;
  const auto cells = static_cast<std::size_t>(batch_size * options_.seq_len);
  batch.input_ids.assign(cells, kPadTokenId);
  batch.token_type_ids.assign(cells, 0);
  batch.attention_mask.assign(cells, 0);
  batch.bbox.assign(cells * 4, 0);
  batch.lengths.assign(static_cast<std::size_t>(batch_size), 0);
  for (std::int64_t row = 0; row < batch_size; ++row) FillRow(batch, row, DrawLength());
  return batch;
}

}  // namespace joulebench::workloads
