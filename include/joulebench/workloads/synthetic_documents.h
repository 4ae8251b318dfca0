// Synthetic but realistic encoder inputs: scanned-form-like documents whose lengths vary,
// whose words are WordPiece ids drawn from a Zipf law, and whose boxes follow reading order
// (left to right, top to bottom) on a page normalised to 0..1000, as LayoutLM expects.
// Seeded: the same options give the same documents on every machine with the same stdlib.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace joulebench::workloads {

// Special token ids of bert-base-uncased's vocabulary (vocab.txt lines 1, 101-104).
inline constexpr std::int64_t kPadTokenId = 0;
inline constexpr std::int64_t kClsTokenId = 101;
inline constexpr std::int64_t kSepTokenId = 102;
inline constexpr std::int64_t kMaskTokenId = 103;
// First id used for words: 1996 ("the", the first whole word of bert-base-uncased) in a
// full vocabulary, 104 in the tiny test vocabularies.
std::int64_t FirstWordTokenId(std::int64_t vocab_size);

// Page coordinates are normalised to 0..1000 (LayoutLM, section 3.1).
inline constexpr std::int64_t kPageExtent = 1000;

// A batch of sequences, row-major, ready to become tensors.
struct DocumentBatch {
  std::int64_t batch_size = 0;
  std::int64_t seq_len = 0;
  std::vector<std::int64_t> input_ids;       // [batch, seq]: [CLS] words... [SEP] [PAD]...
  std::vector<std::int64_t> token_type_ids;  // [batch, seq]: all 0 (one segment)
  std::vector<std::int64_t> attention_mask;  // [batch, seq]: 1 for real tokens, 0 for padding
  std::vector<std::int64_t> bbox;            // [batch, seq, 4]: x0, y0, x1, y1 in 0..1000
  std::vector<std::int64_t> lengths;         // [batch]: real tokens per row, [CLS] and [SEP] included
};

struct DocumentOptions {
  std::int64_t seq_len = 512;       // row length (padded); 3..max positions of the model
  std::int64_t vocab_size = 30522;  // token ids stay below this
  std::uint64_t seed = 1;
  // Every row fills the whole sequence (as BERT pretraining packs text); otherwise lengths
  // follow a log-normal law with median `median_fill` x seq_len, clipped to [3, seq_len].
  bool full_length = false;
  double median_fill = 0.6;
  double length_sigma = 0.5;  // log-normal shape of document lengths
};

class DocumentGenerator {
 public:
  explicit DocumentGenerator(DocumentOptions options);  // throws InputError on bad options
  // The next `batch_size` documents (>= 1).
  DocumentBatch Next(std::int64_t batch_size);
  const DocumentOptions& options() const { return options_; }

 private:
  std::int64_t DrawLength();
  std::int64_t DrawWordId();
  void FillRow(DocumentBatch& batch, std::int64_t row, std::int64_t length);

  DocumentOptions options_;
  std::mt19937_64 rng_;
  std::int64_t first_word_id_;
  std::vector<double> zipf_cdf_;  // word rank -> cumulative probability
};

}  // namespace joulebench::workloads
