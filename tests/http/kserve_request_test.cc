// Inference requests as `serve` receives them from the network, parsed without a model.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "http/kserve_service.h"

namespace joulebench::http {
namespace {

KServeModel LayoutLm() {
  KServeModel m;
  m.name = "layoutlm-base";
  return m;
}

std::string Refusal(const std::string& body) {
  try {
    ParseKServeInferRequest(body, LayoutLm());
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ParseKServeInferRequest, ReadsRowsOfTheShapeGiven) {
  const auto r = ParseKServeInferRequest(
      R"({"id":"a","inputs":[{"name":"input_ids","datatype":"INT64","shape":[2,3],)"
      R"("data":[[101,5,102],[101,6,102]]}]})",
      LayoutLm());
  EXPECT_EQ(r.id, "a");
  EXPECT_EQ(r.rows.batch_size, 2);
  EXPECT_EQ(r.rows.seq_len, 3);
  EXPECT_EQ(r.rows.input_ids.size(), 6u);
  EXPECT_EQ(r.rows.attention_mask, std::vector<std::int64_t>(6, 1));
  EXPECT_EQ(r.rows.bbox.size(), 24u);
}

TEST(ParseKServeInferRequest, AShapeWhoseElementCountOverflowsIsRefused) {
  // 2^62 x 4 elements overflowed int64 to 0, which matched an empty "data": the request was
  // accepted as 2^62 rows with no values, and the batch that copied them read far out of
  // bounds (one request crashed `serve`).
  const std::string why = Refusal(
      R"({"inputs":[{"name":"input_ids","datatype":"INT64","shape":[4611686018427387904,4],)"
      R"("data":[]}]})");
  EXPECT_NE(why.find("more than 4294967296 elements"), std::string::npos) << why;
}

TEST(ParseKServeInferRequest, AHugeShapeWithFewValuesIsRefusedWithoutReservingForIt) {
  // The values were reserved for the shape's count before they were read: 2^40 of them.
  const std::string why =
      Refusal(R"({"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1048576,1048576],)"
              R"("data":[1]}]})");
  EXPECT_NE(why.find("more than 4294967296 elements"), std::string::npos) << why;
  const std::string fewer = Refusal(
      R"({"inputs":[{"name":"input_ids","datatype":"INT64","shape":[65536,4096],"data":[1]}]})");
  EXPECT_NE(fewer.find("1 values for shape of 268435456 elements"), std::string::npos) << fewer;
}

TEST(ParseKServeInferRequest, DataNestedDeeperThanItsShapeIsRefused) {
  // Flattening recursed once per level: a body of 200000 '[' overflowed the server's stack.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const std::string why = Refusal(
      R"({"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,1],"data":)" + deep + "}]}");
  EXPECT_NE(why.find("nested deeper than its shape"), std::string::npos) << why;
}

}  // namespace
}  // namespace joulebench::http
