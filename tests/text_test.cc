#include "agent/common/text.h"

#include "gtest/gtest.h"

namespace datagen {
namespace {

TEST(ValidUtf8, KeepsEveryScriptAndControlCharactersAsGiven) {
  EXPECT_EQ(ValidUtf8("zoë@exämple.de", 320), "zoë@exämple.de");
  EXPECT_EQ(ValidUtf8("администратор", 4096), "администратор");
  EXPECT_EQ(ValidUtf8("a\x1b[2Jb\u202e", 100), "a\x1b[2Jb\u202e") << "escaped where shown only";
  EXPECT_EQ(ValidUtf8("😀", 10), "😀");
}

TEST(ValidUtf8, InvalidBytesBecomeVisibleEscapes) {
  EXPECT_EQ(ValidUtf8("a\xff"
                      "b",
                      100),
            "a\\xffb");
  EXPECT_EQ(ValidUtf8("\xc3\x28", 100), "\\xc3(") << "a lead byte without its continuation";
  EXPECT_EQ(ValidUtf8("\xc0\xaf", 100), "\\xc0\\xaf") << "an overlong encoding";
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80", 100), "\\xed\\xa0\\x80") << "a surrogate";
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80", 100), "\\xf4\\x90\\x80\\x80") << "past U+10FFFF";
  EXPECT_EQ(ValidUtf8("\xe2\x82", 100), "\\xe2\\x82") << "cut short";
}

TEST(ValidUtf8, CutsAtTheLimitNeverInsideACharacter) {
  EXPECT_EQ(ValidUtf8("ab", 1), "a");
  EXPECT_EQ(ValidUtf8("aé", 2), "a") << "é is two bytes";
  EXPECT_EQ(ValidUtf8("aé", 3), "aé");
  EXPECT_EQ(ValidUtf8("a\xff", 3), "a") << "an escape is four bytes, whole or not at all";
}

TEST(EscapeControls, TextShowsEveryControlVisiblyAndKeepsTheRest) {
  EXPECT_EQ(EscapeControls("zoë администратор 😀"), "zoë администратор 😀");
  EXPECT_EQ(EscapeControls("line\nnext\ttab"), "line\nnext\ttab");
  EXPECT_EQ(EscapeControls("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(EscapeControls(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeControls("\r\a\x7f"), "\\x0d\\x07\\x7f");
  EXPECT_EQ(EscapeControls("\u009b31m"), "\\u009b31m") << "the one-byte CSI (C1)";
  EXPECT_EQ(EscapeControls("x\u202ey\u2066z\u200f\u061c\u2028"),
            "x\\u202ey\\u2066z\\u200f\\u061c\\u2028");
  EXPECT_EQ(EscapeControls("\xff"), "\\xff");
}

TEST(EscapeControls, JsonKeepsJsonValid) {
  EXPECT_EQ(EscapeControls("{\"e\":\"a\u202eb\x7f\"}", Escaping::kJson),
            "{\"e\":\"a\\u202eb\\u007f\"}");
  EXPECT_EQ(EscapeControls("\xff", Escaping::kJson), "\\ufffd");
  EXPECT_EQ(EscapeControls("{\"r\":\"администратор\"}\n", Escaping::kJson),
            "{\"r\":\"администратор\"}\n");
}

TEST(PrintableText, IsValidUtf8ThenEscaped) {
  EXPECT_EQ(PrintableText("bad\xff\x1b[31m", 100), "bad\\xff\\x1b[31m");
  EXPECT_EQ(PrintableText("abcdef", 3), "abc");
}

TEST(TokensAndSlugs, StayAscii) {
  EXPECT_TRUE(IsValidSlug("test-org_1.x"));
  EXPECT_FALSE(IsValidSlug("zoë"));
  EXPECT_FALSE(IsTokenText("dgat_ä"));
  EXPECT_TRUE(IsPrintableText("ABCD-EFGH", 64));
  EXPECT_FALSE(IsPrintableText("AB\x1b", 64));
}

}  // namespace
}  // namespace datagen
