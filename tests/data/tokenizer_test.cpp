// Tests of data/tokenizer: the tokenizer rule of tokenizer.h step by step (separators, the
// lowercase map, bigrams) and every kind of invalid UTF-8 with its message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "tensor/error.h"

namespace ignis::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::ThrowsMessage;

// The UTF-8 bytes of one code point, written out independently of the tokenizer's encoder.
std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string hex(char32_t cp) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(cp));
  return buffer;
}

TEST(Tokenizer, AsciiWordsDigitsAndPunctuation) {
  const Tokenizer tokenize;
  EXPECT_THAT(tokenize("Hello, World! It's 2024-01-05; x=3.14 snake_case\tTAB\r\nnew"),
              ElementsAre("hello", "world", "it", "s", "2024", "01", "05", "x", "3", "14",
                          "snake", "case", "tab", "new"));
  EXPECT_THAT(tokenize("abc123 1,000"), ElementsAre("abc123", "1", "000"));
}

TEST(Tokenizer, TheHeadersExample) {
  EXPECT_THAT(Tokenizer()("Ünïcode — café×2, naïve!"), ElementsAre("ünïcode", "café", "2", "naïve"));
}

TEST(Tokenizer, EveryAsciiCharacterOtherThanLettersAndDigitsSeparates) {
  const Tokenizer tokenize;
  for (int c = 0; c < 128; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const std::vector<std::string> tokens = tokenize(std::string("a") + static_cast<char>(c) + "b");
    EXPECT_EQ(tokens.size(), alnum ? 1u : 2u) << "character " << c;
  }
}

TEST(Tokenizer, EmptyTextAndOnlySeparatorsGiveNoTokens) {
  const Tokenizer tokenize({.bigrams = true});
  EXPECT_THAT(tokenize(""), IsEmpty());
  EXPECT_THAT(tokenize(" ,.;!? \n\t " + utf8(0x2014) + utf8(0x1F600)), IsEmpty());
}

TEST(Tokenizer, LowercaseOffKeepsTheBytes) {
  const Tokenizer tokenize({.lowercase = false});
  EXPECT_THAT(tokenize("Hello ÁÑÜ ΑΘΗΝΑ МОСКВА"), ElementsAre("Hello", "ÁÑÜ", "ΑΘΗΝΑ", "МОСКВА"));
  EXPECT_FALSE(tokenize.options().lowercase);
}

TEST(Tokenizer, AccentedLatinIsLowercased) {
  const Tokenizer tokenize;
  EXPECT_THAT(tokenize("Á Ñ Ü Œ Ÿ"), ElementsAre("á", "ñ", "ü", "œ", "ÿ"));
  EXPECT_THAT(tokenize("ÉLÉPHANT Ça Señor Straße ŁÓDŹ ŽUPA Ærø"),
              ElementsAre("éléphant", "ça", "señor", "straße", "łódź", "župa", "ærø"));
}

TEST(Tokenizer, GreekAndCyrillicAreLowercased) {
  const Tokenizer tokenize;
  EXPECT_THAT(tokenize("ΑΘΗΝΑ Σοφία ΩΜΕΓΑ"), ElementsAre("αθηνα", "σοφία", "ωμεγα"));
  EXPECT_THAT(tokenize("МОСКВА Ёжик ЉУБАВ Їжак"), ElementsAre("москва", "ёжик", "љубав", "їжак"));
}

TEST(Tokenizer, LowercaseMapEdges) {
  // (from, to) at the edges of every range of rule step 3; everything else is unchanged,
  // including letters Unicode would lowercase (U+0386 Ά, U+1E9E ẞ) and U+0130 İ, which the
  // rule maps to U+0131 (an even code point in U+0100-U+0137).
  const std::vector<std::pair<char32_t, char32_t>> cases = {
      {0x41, 0x61},     {0x5A, 0x7A},     {0xC0, 0xE0},     {0xD6, 0xF6},     {0xD8, 0xF8},
      {0xDE, 0xFE},     {0xDF, 0xDF},     {0xE0, 0xE0},     {0xFF, 0xFF},     {0x178, 0xFF},
      {0x100, 0x101},   {0x101, 0x101},   {0x130, 0x131},   {0x136, 0x137},   {0x137, 0x137},
      {0x138, 0x138},   {0x139, 0x13A},   {0x13A, 0x13A},   {0x147, 0x148},   {0x148, 0x148},
      {0x149, 0x149},   {0x14A, 0x14B},   {0x152, 0x153},   {0x176, 0x177},   {0x177, 0x177},
      {0x179, 0x17A},   {0x17D, 0x17E},   {0x17E, 0x17E},   {0x17F, 0x17F},   {0x180, 0x180},
      {0x386, 0x386},   {0x390, 0x390},   {0x391, 0x3B1},   {0x3A1, 0x3C1},   {0x3A2, 0x3A2},
      {0x3A3, 0x3C3},   {0x3A9, 0x3C9},   {0x3AA, 0x3AA},   {0x3B1, 0x3B1},   {0x3FF, 0x3FF},
      {0x400, 0x450},   {0x40F, 0x45F},   {0x410, 0x430},   {0x42F, 0x44F},   {0x430, 0x430},
      {0x450, 0x450},   {0x460, 0x460},   {0x1E9E, 0x1E9E}, {0xFF21, 0xFF21},
  };
  const Tokenizer lower;
  const Tokenizer as_is({.lowercase = false});
  for (const auto& [from, to] : cases) {
    EXPECT_THAT(lower(utf8(from)), ElementsAre(utf8(to))) << hex(from);
    EXPECT_THAT(as_is(utf8(from)), ElementsAre(utf8(from))) << hex(from);
  }
}

TEST(Tokenizer, PunctuationAndSymbolsSplit) {
  const Tokenizer tokenize;
  EXPECT_THAT(tokenize("well—maybe"), ElementsAre("well", "maybe"));           // em dash
  EXPECT_THAT(tokenize("“quoted” ‘single’"), ElementsAre("quoted", "single"));  // curly quotes
  EXPECT_THAT(tokenize("3×4÷2"), ElementsAre("3", "4", "2"));
  EXPECT_THAT(tokenize("fun😀times🎉!"), ElementsAre("fun", "times"));
  EXPECT_THAT(tokenize("€5 £3 ¥7"), ElementsAre("5", "3", "7"));
  EXPECT_THAT(tokenize("a→b ≥ c"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(tokenize("«oui» ¿qué? ¡sí! a·b"), ElementsAre("oui", "qué", "sí", "a", "b"));
  EXPECT_THAT(tokenize("no\u00A0break"), ElementsAre("no", "break"));
  EXPECT_THAT(tokenize("日本語。テスト、です"), ElementsAre("日本語", "テスト", "です"));
  EXPECT_THAT(tokenize("ＡＢＣ！ｘ"), ElementsAre("ＡＢＣ", "ｘ"));
}

TEST(Tokenizer, OrdinalsAndMicroAreTokenCharacters) {
  const Tokenizer tokenize;
  EXPECT_THAT(tokenize("1º 2ª 5µm"), ElementsAre("1º", "2ª", "5µm"));
}

TEST(Tokenizer, SeparatorRangeEdges) {
  // (code point, is a token character) on both sides of every range of rule step 2.
  const std::vector<std::pair<char32_t, bool>> cases = {
      {0x7F, false},    {0x80, false},    {0xA9, false},    {0xAA, true},     {0xAB, false},
      {0xB4, false},    {0xB5, true},     {0xB6, false},    {0xB9, false},    {0xBA, true},
      {0xBB, false},    {0xBF, false},    {0xC0, true},     {0xD6, true},     {0xD7, false},
      {0xD8, true},     {0xF6, true},     {0xF7, false},    {0xF8, true},     {0x1FFF, true},
      {0x2000, false},  {0x206F, false},  {0x2070, true},   {0x209F, true},   {0x20A0, false},
      {0x20CF, false},  {0x20D0, true},   {0x218F, true},   {0x2190, false},  {0x2BFF, false},
      {0x2C00, true},   {0x2FFF, true},   {0x3000, false},  {0x303F, false},  {0x3040, true},
      {0xD7FF, true},   {0xE000, true},   {0xFDFF, true},   {0xFE00, false},  {0xFE0F, false},
      {0xFE10, true},   {0xFE2F, true},   {0xFE30, false},  {0xFE4F, false},  {0xFE50, true},
      {0xFEFF, true},   {0xFF00, false},  {0xFF0F, false},  {0xFF10, true},   {0xFF19, true},
      {0xFF1A, false},  {0xFF20, false},  {0xFF21, true},   {0xFF3A, true},   {0xFF3B, false},
      {0xFF40, false},  {0xFF41, true},   {0xFF5A, true},   {0xFF5B, false},  {0xFF65, false},
      {0xFF66, true},   {0xFFFF, true},   {0x10000, true},  {0x1EFFF, true},  {0x1F000, false},
      {0x1F600, false}, {0x1FAFF, false}, {0x1FB00, true},  {0x10FFFF, true},
  };
  const Tokenizer tokenize({.lowercase = false});
  for (const auto& [cp, is_token] : cases) {
    const std::string c = utf8(cp);
    if (is_token) {
      EXPECT_THAT(tokenize("a" + c + "b"), ElementsAre("a" + c + "b")) << hex(cp);
    } else {
      EXPECT_THAT(tokenize("a" + c + "b"), ElementsAre("a", "b")) << hex(cp);
    }
  }
}

TEST(Tokenizer, BigramsFollowTheUnigrams) {
  const Tokenizer tokenize({.bigrams = true});
  EXPECT_THAT(tokenize("The cat sat."), ElementsAre("the", "cat", "sat", "the cat", "cat sat"));
  EXPECT_THAT(tokenize("alone"), ElementsAre("alone"));
  EXPECT_THAT(tokenize("Ça va"), ElementsAre("ça", "va", "ça va"));
}

TEST(Tokenizer, TokenizeAppendsAndPairsOnlyItsOwnTokens) {
  const Tokenizer tokenize({.bigrams = true});
  std::vector<std::string> out = {"kept"};
  tokenize.tokenize("a b", out);
  tokenize.tokenize("c d e", out);
  EXPECT_THAT(out, ElementsAre("kept", "a", "b", "a b", "c", "d", "e", "c d", "d e"));
}

TEST(Tokenizer, LongTokensAndManyTokens) {
  const Tokenizer tokenize;
  const std::string word(1000, 'Q');
  std::string text;
  for (int i = 0; i < 100; ++i) text += word + " ";
  const std::vector<std::string> tokens = tokenize(text);
  ASSERT_EQ(tokens.size(), 100u);
  for (const std::string& token : tokens) EXPECT_EQ(token, std::string(1000, 'q'));
}

// The message of the ParseError that tokenizing `text` (with "where" `where`) throws.
std::string utf8_error(const std::string& text, const std::string& where = "") {
  try {
    Tokenizer()(text, where);
  } catch (const ParseError& error) {
    return error.what();
  }
  return "no error";
}

TEST(Tokenizer, InvalidUtf8KindsAndOffsets) {
  // Overlong forms of '/' (U+002F) in 2, 3 and 4 bytes, and of U+07FF / U+FFFF.
  EXPECT_EQ(utf8_error("ab\xC0\xAF"), "invalid UTF-8 at byte 2: overlong encoding");
  EXPECT_EQ(utf8_error("\xC1\xBF"), "invalid UTF-8 at byte 0: overlong encoding");
  EXPECT_EQ(utf8_error("x \xE0\x80\xAF"), "invalid UTF-8 at byte 2: overlong encoding");
  EXPECT_EQ(utf8_error("\xE0\x9F\xBF"), "invalid UTF-8 at byte 0: overlong encoding");
  EXPECT_EQ(utf8_error("\xF0\x80\x80\xAF"), "invalid UTF-8 at byte 0: overlong encoding");
  EXPECT_EQ(utf8_error("\xF0\x8F\xBF\xBF"), "invalid UTF-8 at byte 0: overlong encoding");
  // Surrogates U+D800 and U+DFFF.
  EXPECT_EQ(utf8_error("a\xED\xA0\x80"), "invalid UTF-8 at byte 1: surrogate code point");
  EXPECT_EQ(utf8_error("a\xED\xBF\xBF"), "invalid UTF-8 at byte 1: surrogate code point");
  // Truncated: at the end of the text, or followed by a byte that is not a continuation.
  EXPECT_EQ(utf8_error("abc\xE2\x82"), "invalid UTF-8 at byte 3: truncated sequence");
  EXPECT_EQ(utf8_error("\xC3"), "invalid UTF-8 at byte 0: truncated sequence");
  EXPECT_EQ(utf8_error("é\xE2\x82z"), "invalid UTF-8 at byte 2: truncated sequence");
  EXPECT_EQ(utf8_error("\xF0\x9F\x98 "), "invalid UTF-8 at byte 0: truncated sequence");
  EXPECT_EQ(utf8_error("\xC3\xC3\xA9"), "invalid UTF-8 at byte 0: truncated sequence");
  // Stray continuation bytes.
  EXPECT_EQ(utf8_error("a\x80"), "invalid UTF-8 at byte 1: stray continuation byte");
  EXPECT_EQ(utf8_error("é\xA9"), "invalid UTF-8 at byte 2: stray continuation byte");
  // Above U+10FFFF: U+110000 from F4, and the lead bytes F5-F7; bytes F8-FF.
  EXPECT_EQ(utf8_error("\xF4\x90\x80\x80"), "invalid UTF-8 at byte 0: code point above U+10FFFF");
  EXPECT_EQ(utf8_error("ok \xF5\x80\x80\x80"),
            "invalid UTF-8 at byte 3: code point above U+10FFFF");
  EXPECT_EQ(utf8_error("\xFF"), "invalid UTF-8 at byte 0: byte 0xF8-0xFF, never used in UTF-8");
  // The first invalid sequence is reported.
  EXPECT_EQ(utf8_error("a\x80 \xFF"), "invalid UTF-8 at byte 1: stray continuation byte");
}

TEST(Tokenizer, ValidSequencesAtTheLimits) {
  const Tokenizer tokenize({.lowercase = false});
  for (const char32_t cp : {0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u,
                            0x10FFFFu}) {
    EXPECT_NO_THROW(tokenize("a" + utf8(cp))) << hex(cp);
  }
}

TEST(Tokenizer, InvalidUtf8NamesWhereAndLeavesOutUnchanged) {
  EXPECT_EQ(utf8_error("ok \xC0\xAF", "train.csv:17"),
            "train.csv:17: invalid UTF-8 at byte 3: overlong encoding");
  const Tokenizer tokenize({.bigrams = true});
  std::vector<std::string> out = {"kept"};
  EXPECT_THAT([&] { tokenize.tokenize("one two \x80", out, "f.csv:2"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2: invalid UTF-8 at byte 8")));
  EXPECT_THAT(out, ElementsAre("kept"));
}

}  // namespace
}  // namespace ignis::data
