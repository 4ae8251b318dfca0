// `--input name:dtype[d0,d1,...]` specs of user TorchScript models.
#include "joulebench/workloads/input_spec.h"

#include <gtest/gtest.h>

#include "joulebench/error.h"

namespace joulebench::workloads {
namespace {

TEST(ParseInputSpec, ReadsNameDtypeAndShape) {
  const InputSpec spec = ParseInputSpec("input_ids:int64[8,512]");
  EXPECT_EQ(spec.name, "input_ids");
  EXPECT_EQ(spec.dtype, "int64");
  EXPECT_EQ(spec.shape, (std::vector<std::int64_t>{8, 512}));
  EXPECT_EQ(spec.element_count(), 4096);
}

TEST(ParseInputSpec, TooManyElementsIsRefusedBeforeTheCountOverflows) {
  // Found by fuzz/units_fuzzer.cc (UBSan): 8 x 2500000000000000012 overflowed int64 before the
  // "too many elements" check saw it.
  EXPECT_THROW(ParseInputSpec("ut_dis:int32[8,2500000000000000012]"), InputError);
  EXPECT_THROW(ParseInputSpec("x:int64[4294967296,4294967296]"), InputError);
  EXPECT_THROW(ParseInputSpec("x:int64[131072,131073]"), InputError);  // just over 2^34
  EXPECT_EQ(ParseInputSpec("x:int64[131072,131072]").element_count(), std::int64_t{1} << 34);
}

}  // namespace
}  // namespace joulebench::workloads
