#include <gtest/gtest.h>

#include "joulebench/error.h"
#include "joulebench/load/builtin_suts.h"

namespace joulebench::load {
namespace {

TEST(BuiltinSutSpecTest, NullSpecMakesTheNullSut) {
  EXPECT_EQ(MakeBuiltinSut("null")->Name(), "null");
}

TEST(BuiltinSutSpecTest, SleepSpecCarriesWorkersServiceAndDistribution) {
  auto sut = MakeBuiltinSut("sleep:workers=3,service=250us,dist=exp");
  auto* sleep = dynamic_cast<SleepSut*>(sut.get());
  ASSERT_NE(sleep, nullptr);
  EXPECT_EQ(sleep->options().workers, 3);
  EXPECT_EQ(sleep->options().service_ns, 250'000);
  EXPECT_TRUE(sleep->options().exponential);
}

TEST(BuiltinSutSpecTest, RejectsZeroWorkers) {
  try {
    MakeBuiltinSut("sleep:workers=0,service=2ms");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("workers must be between 1 and 1024"), std::string::npos);
  }
}

TEST(BuiltinSutSpecTest, RejectsServiceWithoutUnitUnknownKeysAndUnknownSuts) {
  EXPECT_THROW(MakeBuiltinSut("sleep:workers=2,service=2"), InputError);
  EXPECT_THROW(MakeBuiltinSut("sleep:workers=2,service=2ms,color=red"), InputError);
  EXPECT_THROW(MakeBuiltinSut("sleep:workers=2"), InputError);
  EXPECT_THROW(MakeBuiltinSut("sleep:workers=two,service=1ms"), InputError);
  EXPECT_THROW(MakeBuiltinSut("sleep:workers=2,service=1ms,dist=gamma"), InputError);
  EXPECT_THROW(MakeBuiltinSut("sleepy"), InputError);
  EXPECT_THROW(MakeBuiltinSut("gpu"), InputError);
}

}  // namespace
}  // namespace joulebench::load
