#include "joulebench/workloads/synthetic_documents.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "joulebench/error.h"
#include "joulebench/workloads/mlm_masking.h"

namespace joulebench::workloads {
namespace {

TEST(DocumentGenerator, SameSeedSameDocumentsOtherSeedOtherDocuments) {
  DocumentGenerator a({.seq_len = 64, .seed = 5});
  DocumentGenerator b({.seq_len = 64, .seed = 5});
  DocumentGenerator c({.seq_len = 64, .seed = 6});
  const DocumentBatch x = a.Next(4);
  EXPECT_EQ(x.input_ids, b.Next(4).input_ids);
  EXPECT_NE(x.input_ids, c.Next(4).input_ids);
}

TEST(DocumentGenerator, RowsAreClsWordsSepThenPadding) {
  DocumentGenerator generator({.seq_len = 40, .vocab_size = 512, .seed = 3});
  const DocumentBatch batch = generator.Next(16);
  for (std::int64_t r = 0; r < 16; ++r) {
    const std::int64_t n = batch.lengths[r];
    ASSERT_GE(n, 3);
    ASSERT_LE(n, 40);
    const std::int64_t* ids = &batch.input_ids[r * 40];
    EXPECT_EQ(ids[0], kClsTokenId);
    EXPECT_EQ(ids[n - 1], kSepTokenId);
    for (std::int64_t t = 1; t < n - 1; ++t) {
      EXPECT_GE(ids[t], FirstWordTokenId(512));
      EXPECT_LT(ids[t], 512);
    }
    for (std::int64_t t = 0; t < 40; ++t) {
      EXPECT_EQ(batch.attention_mask[r * 40 + t], t < n ? 1 : 0);
      if (t >= n) EXPECT_EQ(ids[t], kPadTokenId);
    }
  }
}

TEST(DocumentGenerator, LengthsVaryAroundTheMedian) {
  DocumentGenerator generator({.seq_len = 512, .seed = 1});
  const DocumentBatch batch = generator.Next(400);
  std::vector<std::int64_t> lengths = batch.lengths;
  std::sort(lengths.begin(), lengths.end());
  const std::int64_t median = lengths[200];
  EXPECT_NEAR(static_cast<double>(median), 0.6 * 512, 0.1 * 512);
  EXPECT_LT(lengths.front(), 200);
  EXPECT_EQ(lengths.back(), 512);  // the log-normal tail is truncated at the sequence length
}

TEST(DocumentGenerator, BoxesFollowReadingOrderOnThePage) {
  DocumentGenerator generator({.seq_len = 512, .seed = 2, .full_length = true});
  const DocumentBatch batch = generator.Next(1);
  const std::int64_t* box = batch.bbox.data();
  EXPECT_EQ(std::vector<std::int64_t>(box, box + 4), (std::vector<std::int64_t>{0, 0, 0, 0}));
  const std::int64_t* sep = box + 511 * 4;
  EXPECT_EQ(std::vector<std::int64_t>(sep, sep + 4),
            (std::vector<std::int64_t>{1000, 1000, 1000, 1000}));
  int new_lines = 0;
  for (std::int64_t t = 1; t < 511; ++t) {
    const std::int64_t* b = box + t * 4;
    ASSERT_LT(b[0], b[2]);
    ASSERT_LT(b[1], b[3]);
    ASSERT_LE(b[2], kPageExtent);
    ASSERT_LE(b[3], kPageExtent);
    if (t > 1) {
      const std::int64_t* prev = b - 4;
      // Same line: left to right (or the same word); next line: below, back at the margin.
      if (b[1] == prev[1]) {
        EXPECT_GE(b[0], prev[0]);
      } else {
        ++new_lines;
        EXPECT_LT(b[0], prev[0]);
      }
    }
  }
  EXPECT_GT(new_lines, 10);
}

TEST(DocumentGenerator, RejectsSequencesTooShortForClsAndSep) {
  EXPECT_THROW(DocumentGenerator({.seq_len = 2}), InputError);
  DocumentGenerator generator({.seq_len = 8});
  EXPECT_THROW(generator.Next(0), InputError);
}

TEST(MlmMasker, ChoosesFifteenPercentOfWordsAndSplits80_10_10) {
  DocumentGenerator generator({.seq_len = 128, .seed = 4, .full_length = true});
  DocumentBatch batch = generator.Next(64);
  const DocumentBatch original = batch;
  MlmMasker masker({.seed = 8});
  const MlmTargets targets = masker.Apply(batch);
  // 126 words per row -> round(18.9) = 19 targets per row.
  ASSERT_EQ(targets.positions.size(), 64u * 19u);
  int masked = 0, random = 0, kept = 0;
  std::set<std::int64_t> chosen(targets.positions.begin(), targets.positions.end());
  for (std::size_t i = 0; i < targets.positions.size(); ++i) {
    const std::int64_t p = targets.positions[i];
    EXPECT_EQ(targets.labels[i], original.input_ids[p]);
    EXPECT_NE(original.input_ids[p], kClsTokenId);
    EXPECT_NE(original.input_ids[p], kSepTokenId);
    if (batch.input_ids[p] == kMaskTokenId) {
      ++masked;
    } else if (batch.input_ids[p] == original.input_ids[p]) {
      ++kept;
    } else {
      ++random;
    }
  }
  for (std::size_t p = 0; p < batch.input_ids.size(); ++p) {
    if (!chosen.count(static_cast<std::int64_t>(p))) {
      EXPECT_EQ(batch.input_ids[p], original.input_ids[p]);
    }
  }
  const double n = static_cast<double>(targets.positions.size());
  EXPECT_NEAR(masked / n, 0.8, 0.04);
  EXPECT_NEAR(random / n, 0.1, 0.03);  // a random word may equal the original: counted as kept
  EXPECT_NEAR(kept / n, 0.1, 0.03);
}

}  // namespace
}  // namespace joulebench::workloads
