#include "joulebench/printable_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace joulebench {
namespace {

TEST(PrintableText, KeepsUtf8AndReplacesControlCharacters) {
  EXPECT_EQ(PrintableText("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(PrintableText("a\nb\tc\x1b[31md\x7f"), "a b c [31md ");
  EXPECT_EQ(PrintableText("x\xc2\x9by"), "x y");  // C1 CSI
}

TEST(PrintableText, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(PrintableText(std::string("a\xff") + "b"), "a?b");
  EXPECT_EQ(PrintableText("\xc3"), "?");                 // cut character
  EXPECT_EQ(PrintableText("\xc0\xaf"), "??");            // overlong '/'
  EXPECT_EQ(PrintableText("\xed\xa0\x80"), "???");       // surrogate
  EXPECT_EQ(PrintableText("\xf4\x90\x80\x80"), "????");  // above U+10FFFF
}

TEST(PrintableText, NeverCutsACharacterInTwo) {
  EXPECT_EQ(PrintableText("ab\xc3\xa9", 3), "ab...");
  EXPECT_EQ(PrintableText("ab\xc3\xa9", 4), "ab\xc3\xa9");
  EXPECT_EQ(PrintableText("abcdef", 3), "abc...");
}

TEST(PrintableText, TheResultCanAlwaysBeStoredAsJson) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string text = PrintableText(all + all.substr(0xC0) + "\xe2\x82", 300);
  EXPECT_NO_THROW((void)nlohmann::json(text).dump());
}

}  // namespace
}  // namespace joulebench
