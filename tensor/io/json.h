// A small JSON value type with a strict parser (RFC 8259) and a compact writer, for file
// headers and configurations (safetensors, saved models). Not a general-purpose JSON library:
// no comments, no streaming, no schema.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ignis::json {

// One JSON value. Numbers are int64 when written without fraction or exponent and in range,
// else double. Objects keep their members in insertion (file) order.
class Value {
 public:
  enum class Kind { Null, Bool, Int, Double, String, Array, Object };
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::Null; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_int() const { return kind() == Kind::Int; }
  bool is_number() const { return kind() == Kind::Int || kind() == Kind::Double; }
  bool is_string() const { return kind() == Kind::String; }
  bool is_array() const { return kind() == Kind::Array; }
  bool is_object() const { return kind() == Kind::Object; }

  // Each throws ValueError naming the expected and the actual kind.
  bool as_bool() const;
  int64_t as_int() const;
  double as_double() const;  // an Int converts to double
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // The member named `key` of an object, or nullptr if absent (linear search: objects in
  // headers are small). Throws ValueError if this is not an object.
  const Value* find(std::string_view key) const;
  // Sets member `key` of an object: replaces it in place if present, else appends it.
  void set(std::string key, Value value);

  friend bool operator==(const Value&, const Value&) = default;

 private:
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_;
};

const char* kind_name(Value::Kind kind);  // "null", "bool", "int", ...

struct ParseOptions {
  std::string_view source = "json";  // names the input in error messages (a file name)
  size_t base_offset = 0;   // added to reported byte offsets (the text's place in its file)
  int max_depth = 64;       // nesting of arrays and objects
  size_t max_bytes = size_t{100} << 20;
};

// Parses one JSON value (surrounded by optional whitespace) from UTF-8 text. Strict: no
// trailing commas, no comments, no leading zeros, no control characters or invalid UTF-8 in
// strings, no lone surrogates, no duplicate object keys, no trailing content. Throws
// ParseError "<source>: byte <offset>: <problem>"; never recurses deeper than max_depth.
Value parse(std::string_view text, const ParseOptions& options = {});

// Compact JSON with no spaces, as serde_json writes it: object members in order, '"', '\\'
// and control characters escaped (\n, \t, ..., else \u00XX), other UTF-8 as is; doubles in the
// shortest form that reads back exactly, with ".0" when integral so they stay doubles.
// Throws ValueError for a non-finite double (JSON has no NaN or infinity).
std::string dump(const Value& value);
void dump_to(std::string& out, const Value& value);  // appends to `out`
void dump_string_to(std::string& out, std::string_view s);  // one quoted, escaped string

}  // namespace ignis::json
