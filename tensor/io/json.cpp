// The JSON parser (recursive descent with a depth limit) and writer declared in json.h.
// Not a validator of what the values mean: callers check the structure they expect.
#include "tensor/io/json.h"

#include <charconv>
#include <cmath>
#include <string>
#include <unordered_set>

#include "tensor/error.h"

namespace ignis::json {

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Double: return "double";
    case Value::Kind::String: return "string";
    case Value::Kind::Array: return "array";
    case Value::Kind::Object: return "object";
  }
  internal_error("json::kind_name: bad kind");
}

namespace {

[[noreturn]] void wrong_kind(Value::Kind want, Value::Kind got) {
  throw ValueError(std::string("json: expected ") + kind_name(want) + ", got " + kind_name(got));
}

}  // namespace

bool Value::as_bool() const {
  if (!is_bool()) wrong_kind(Kind::Bool, kind());
  return std::get<bool>(v_);
}

int64_t Value::as_int() const {
  if (!is_int()) wrong_kind(Kind::Int, kind());
  return std::get<int64_t>(v_);
}

double Value::as_double() const {
  if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
  if (kind() != Kind::Double) wrong_kind(Kind::Double, kind());
  return std::get<double>(v_);
}

const std::string& Value::as_string() const {
  if (!is_string()) wrong_kind(Kind::String, kind());
  return std::get<std::string>(v_);
}

const Value::Array& Value::as_array() const {
  if (!is_array()) wrong_kind(Kind::Array, kind());
  return std::get<Array>(v_);
}

Value::Array& Value::as_array() {
  if (!is_array()) wrong_kind(Kind::Array, kind());
  return std::get<Array>(v_);
}

const Value::Object& Value::as_object() const {
  if (!is_object()) wrong_kind(Kind::Object, kind());
  return std::get<Object>(v_);
}

Value::Object& Value::as_object() {
  if (!is_object()) wrong_kind(Kind::Object, kind());
  return std::get<Object>(v_);
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [name, value] : as_object()) {
    if (name == key) return &value;
  }
  return nullptr;
}

void Value::set(std::string key, Value value) {
  Object& members = as_object();
  for (auto& [name, old] : members) {
    if (name == key) {
      old = std::move(value);
      return;
    }
  }
  members.emplace_back(std::move(key), std::move(value));
}

// ---- parser ----

namespace {

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  Value parse_document() {
    if (text_.size() > options_.max_bytes) {
      fail("input is " + std::to_string(text_.size()) + " bytes, more than the limit of " +
           std::to_string(options_.max_bytes));
    }
    skip_whitespace();
    Value value = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail("unexpected content after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { fail_at(pos_, problem); }

  [[noreturn]] void fail_at(size_t pos, const std::string& problem) const {
    throw ParseError(std::string(options_.source) + ": byte " +
                     std::to_string(options_.base_offset + pos) + ": " + problem);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_whitespace() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  void expect(char c, const char* context) {
    if (peek() != c || at_end()) fail(std::string("expected '") + c + "' " + context);
    ++pos_;
  }

  void expect_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      fail("invalid literal, expected '" + std::string(word) + "'");
    }
    pos_ += word.size();
  }

  Value parse_value(int depth) {
    if (at_end()) fail("unexpected end of input, expected a value");
    switch (peek()) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return Value(parse_string());
      case 't': expect_word("true"); return Value(true);
      case 'f': expect_word("false"); return Value(false);
      case 'n': expect_word("null"); return Value(nullptr);
      default: return parse_number();
    }
  }

  void check_depth(int depth) const {
    if (depth > options_.max_depth) {
      fail("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
  }

  Value parse_array(int depth) {
    check_depth(depth);
    ++pos_;  // '['
    Value::Array items;
    skip_whitespace();
    if (peek() == ']' && !at_end()) {
      ++pos_;
      return Value(std::move(items));
    }
    while (true) {
      skip_whitespace();
      items.push_back(parse_value(depth));
      skip_whitespace();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        continue;
      }
      expect(']', "or ',' in array");
      return Value(std::move(items));
    }
  }

  Value parse_object(int depth) {
    check_depth(depth);
    ++pos_;  // '{'
    Value::Object members;
    std::unordered_set<std::string> keys;
    skip_whitespace();
    if (peek() == '}' && !at_end()) {
      ++pos_;
      return Value(std::move(members));
    }
    while (true) {
      skip_whitespace();
      const size_t key_pos = pos_;
      if (peek() != '"' || at_end()) fail("expected a string key in object");
      std::string key = parse_string();
      if (!keys.insert(key).second) fail_at(key_pos, "duplicate key \"" + key + "\" in object");
      skip_whitespace();
      expect(':', "after object key");
      skip_whitespace();
      Value value = parse_value(depth);
      members.emplace_back(std::move(key), std::move(value));
      skip_whitespace();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        continue;
      }
      expect('}', "or ',' in object");
      return Value(std::move(members));
    }
  }

  Value parse_number() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0' && !at_end()) {
      ++pos_;
      if (peek() >= '0' && peek() <= '9') fail_at(start, "leading zero in number");
    } else if (digits() == 0) {
      fail_at(start, "unexpected character, expected a value");
    }
    bool integral = true;
    if (peek() == '.') {
      ++pos_;
      integral = false;
      if (digits() == 0) fail("expected a digit after '.' in number");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      integral = false;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) fail("expected a digit in the exponent of number");
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && end == last) return Value(i);
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || end != last || !std::isfinite(d)) {
      fail_at(start, "number '" + std::string(first, last) + "' out of range");
    }
    return Value(d);
  }

  // Four hex digits of a \u escape.
  uint32_t parse_hex4() {
    if (text_.size() - pos_ < 4) fail("truncated \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') digit = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<uint32_t>(c - 'A' + 10);
      else fail_at(pos_ - 1, "invalid hex digit in \\u escape");
      code = code * 16 + digit;
    }
    return code;
  }

  static void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // After a backslash: one escape, appended to `out` as UTF-8.
  void parse_escape(std::string& out) {
    const size_t escape_pos = pos_ - 1;
    if (at_end()) fail("unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default: fail_at(escape_pos, std::string("invalid escape '\\") + c + "' in string");
    }
    uint32_t code = parse_hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) fail_at(escape_pos, "lone low surrogate in string");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail_at(escape_pos, "lone high surrogate in string");
      pos_ += 2;
      const uint32_t low = parse_hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail_at(escape_pos, "lone high surrogate in string");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, code);
  }

  // A multi-byte UTF-8 sequence starting at pos_, validated (no overlongs, no surrogates,
  // nothing above U+10FFFF) and appended as is.
  void parse_utf8(std::string& out) {
    const size_t start = pos_;
    const auto lead = static_cast<unsigned char>(text_[pos_]);
    int extra = 0;
    uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
      code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      code = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      code = lead & 0x07;
    } else {
      fail("invalid UTF-8 in string");
    }
    if (text_.size() - pos_ <= static_cast<size_t>(extra)) fail("truncated UTF-8 in string");
    for (int i = 1; i <= extra; ++i) {
      const auto cont = static_cast<unsigned char>(text_[pos_ + i]);
      if ((cont & 0xC0) != 0x80) fail("invalid UTF-8 in string");
      code = (code << 6) | (cont & 0x3F);
    }
    const uint32_t min_code = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail("invalid UTF-8 in string");
    }
    pos_ += static_cast<size_t>(extra) + 1;
    out.append(text_.substr(start, pos_ - start));
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        ++pos_;
        parse_escape(out);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in string (must be escaped)");
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        parse_utf8(out);
      } else {
        out += c;
        ++pos_;
      }
    }
  }

  std::string_view text_;
  const ParseOptions& options_;
  size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).parse_document();
}

// ---- writer ----

void dump_string_to(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[static_cast<unsigned char>(c) >> 4];
          out += kHex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void dump_to(std::string& out, const Value& value) {
  switch (value.kind()) {
    case Value::Kind::Null: out += "null"; return;
    case Value::Kind::Bool: out += value.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(value.as_int()); return;
    case Value::Kind::Double: {
      const double d = value.as_double();
      if (!std::isfinite(d)) throw ValueError("json::dump: a non-finite double has no JSON form");
      char buf[64];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
      IGNIS_INTERNAL_ASSERT(ec == std::errc());
      const std::string_view text(buf, static_cast<size_t>(end - buf));
      out += text;
      if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
      return;
    }
    case Value::Kind::String: dump_string_to(out, value.as_string()); return;
    case Value::Kind::Array: {
      out += '[';
      bool first = true;
      for (const Value& item : value.as_array()) {
        if (!first) out += ',';
        first = false;
        dump_to(out, item);
      }
      out += ']';
      return;
    }
    case Value::Kind::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.as_object()) {
        if (!first) out += ',';
        first = false;
        dump_string_to(out, key);
        out += ':';
        dump_to(out, item);
      }
      out += '}';
      return;
    }
  }
}

std::string dump(const Value& value) {
  std::string out;
  dump_to(out, value);
  return out;
}

}  // namespace ignis::json
