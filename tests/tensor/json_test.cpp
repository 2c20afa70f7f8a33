// Tests of tensor/io/json.h: parsing, writing, round trips and the parser's error messages.
#include "tensor/io/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "tensor/error.h"

namespace ignis::json {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(Json, ParsesScalars) {
  EXPECT_TRUE(parse("null").is_null());
  EXPECT_EQ(parse("true").as_bool(), true);
  EXPECT_EQ(parse(" false ").as_bool(), false);
  EXPECT_EQ(parse("42").as_int(), 42);
  EXPECT_EQ(parse("-0").as_int(), 0);
  EXPECT_EQ(parse("-9223372036854775808").as_int(), INT64_MIN);
  EXPECT_EQ(parse("9223372036854775807").as_int(), INT64_MAX);
  EXPECT_EQ(parse("9223372036854775808").kind(), Value::Kind::Double);  // beyond int64
  EXPECT_EQ(parse("1.5").as_double(), 1.5);
  EXPECT_EQ(parse("1e3").kind(), Value::Kind::Double);
  EXPECT_EQ(parse("-2.5E-3").as_double(), -2.5e-3);
  EXPECT_EQ(parse("3").as_double(), 3.0);
}

TEST(Json, ParsesStringEscapes) {
  EXPECT_EQ(parse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parse(R"("\u0041\u00e9\u20AC")").as_string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(parse("\"\xF0\x9F\x98\x80 \xC3\xA9\"").as_string(), "\xF0\x9F\x98\x80 \xC3\xA9");
  EXPECT_EQ(parse(R"("\u0000")").as_string(), std::string(1, '\0'));
}

TEST(Json, ObjectsKeepInsertionOrder) {
  const Value v = parse(R"({"z": 1, "a": [1, 2.5, "x", null, {}], "m": {"k": true}})");
  const Value::Object& members = v.as_object();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].first, "z");
  EXPECT_EQ(members[1].first, "a");
  EXPECT_EQ(members[2].first, "m");
  EXPECT_EQ(v.find("a")->as_array().size(), 5u);
  EXPECT_EQ(v.find("m")->find("k")->as_bool(), true);
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Json, SetReplacesOrAppends) {
  Value v = Value::Object{{"a", 1}, {"b", 2}};
  v.set("a", "x");
  v.set("c", 3);
  EXPECT_EQ(dump(v), R"({"a":"x","b":2,"c":3})");
}

TEST(Json, DumpIsCompactLikeSerde) {
  const Value v = Value::Object{{"s", "q\"\\\n\x01/\xC3\xA9"},
                                {"a", Value::Array{1, -2, 0.5, 1.0, true, nullptr}},
                                {"e", Value::Object{}},
                                {"l", Value::Array{}}};
  EXPECT_EQ(dump(v), R"({"s":"q\"\\\n\u0001/)"
                     "\xC3\xA9"
                     R"(","a":[1,-2,0.5,1.0,true,null],"e":{},"l":[]})");
}

TEST(Json, RoundTrips) {
  const std::string texts[] = {
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
      R"([0.1,1e+300,-5e-324,123456789012345,"\u001f\t",[[[]]],{"":null}])",
  };
  for (const std::string& text : texts) {
    const Value v = parse(text);
    EXPECT_EQ(parse(dump(v)), v) << text;
  }
  EXPECT_EQ(dump(parse(texts[0])), texts[0]);
  EXPECT_EQ(parse(dump(Value(0.1))).as_double(), 0.1);
  EXPECT_EQ(parse(dump(Value(1e300))).as_double(), 1e300);
}

TEST(Json, DumpRejectsNonFinite) {
  EXPECT_THAT([] { dump(Value(std::numeric_limits<double>::infinity())); },
              ThrowsMessage<ValueError>(HasSubstr("non-finite")));
}

TEST(Json, WrongKindThrows) {
  EXPECT_THAT([] { parse("\"x\"").as_int(); },
              ThrowsMessage<ValueError>(HasSubstr("expected int, got string")));
  EXPECT_THAT([] { parse("[1]").find("a"); },
              ThrowsMessage<ValueError>(HasSubstr("expected object, got array")));
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(Json, ErrorsNameSourceAndOffset) {
  const BadCase cases[] = {
      {"", "byte 0: unexpected end of input"},
      {"   ", "byte 3: unexpected end of input"},
      {"[1, 2", "byte 5: expected ']' or ','"},
      {"[1, 2,]", "byte 6: unexpected character"},
      {"{\"a\": 1,}", "byte 8: expected a string key"},
      {"{\"a\" 1}", "byte 5: expected ':'"},
      {"{\"a\": 1, \"a\": 2}", "byte 9: duplicate key \"a\""},
      {"01", "byte 0: leading zero"},
      {"1.", "byte 2: expected a digit after '.'"},
      {"1e", "byte 2: expected a digit in the exponent"},
      {"-", "byte 0: unexpected character"},
      {"+1", "byte 0: unexpected character"},
      {".5", "byte 0: unexpected character"},
      {"1e999", "byte 0: number '1e999' out of range"},
      {"tru", "byte 0: invalid literal, expected 'true'"},
      {"nul", "invalid literal"},
      {"1 2", "byte 2: unexpected content after"},
      {"\"abc", "unterminated string"},
      {"\"a\nb\"", "byte 2: control character"},
      {"\"\\x\"", "byte 1: invalid escape '\\x'"},
      {"\"\\u12zz\"", "invalid hex digit"},
      {"\"\\u12", "truncated \\u escape"},
      {"\"\\ud800\"", "byte 1: lone high surrogate"},
      {"\"\\ud800\\u0041\"", "lone high surrogate"},
      {"\"\\udc00\"", "lone low surrogate"},
      {"\"\xC3\"", "invalid UTF-8"},
      {"\"\xC0\xAF\"", "invalid UTF-8"},          // overlong '/'
      {"\"\xED\xA0\x80\"", "invalid UTF-8"},      // encoded surrogate
      {"\"\xF4\x90\x80\x80\"", "invalid UTF-8"},  // above U+10FFFF
      {"\"\xE2\x82", "truncated UTF-8"},
      {"\xEF\xBB\xBF{}", "unexpected character"},  // a BOM is not JSON
      {"// c\n1", "unexpected character"},
  };
  for (const BadCase& c : cases) {
    EXPECT_THAT([&] { parse(c.text, {.source = "in.json"}); },
                ThrowsMessage<ParseError>(AllOf(HasSubstr("in.json: "), HasSubstr(c.message))))
        << "input: " << c.text;
  }
}

TEST(Json, BaseOffsetShiftsReportedBytes) {
  EXPECT_THAT([] { parse("[1,]", {.source = "f", .base_offset = 8}); },
              ThrowsMessage<ParseError>(HasSubstr("f: byte 11: ")));
}

TEST(Json, DepthIsLimited) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_NO_THROW(parse(ok));
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_THAT([&] { parse(deep); }, ThrowsMessage<ParseError>(HasSubstr("deeper than 64")));
  // Far deeper than any stack could take, and never closed: still a clean error.
  const std::string hostile(1'000'000, '[');
  EXPECT_THAT([&] { parse(hostile); }, ThrowsMessage<ParseError>(HasSubstr("deeper than 64")));
  EXPECT_THAT([&] { parse(R"({"a":)" + std::string(70, '[')); },
              ThrowsMessage<ParseError>(HasSubstr("deeper than 64")));
}

TEST(Json, SizeIsLimited) {
  EXPECT_THAT([] { parse("[1, 2, 3]", {.max_bytes = 4}); },
              ThrowsMessage<ParseError>(HasSubstr("more than the limit of 4")));
}

}  // namespace
}  // namespace ignis::json
