// Reads the PyTorch reference fixtures written by tests/reference/make_fixtures.py (the
// format is described there) into CPU tensors. Test support only, header-only; not a library.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/error.h"
#include "tensor/tensor.h"

namespace ignis::test {

struct NamedTensor {
  std::string name;
  Tensor value;
};

// One case: an op applied to `inputs`, giving `outputs`. For a differentiable case, `weights`
// holds w_i per floating output (named as it) and `grads` the gradient of
// loss = sum_i (out_i * w_i).sum() per floating input (named as it); both are empty otherwise.
struct FixtureCase {
  std::string name;   // "add_broadcast_row": the op and its parameters
  std::string dtype;  // "float32" or "float64": the dtype of the floating inputs
  std::vector<NamedTensor> inputs;
  std::vector<NamedTensor> outputs;
  std::vector<NamedTensor> weights;
  std::vector<NamedTensor> grads;

  std::string id() const { return name + "_" + dtype; }
  bool differentiable() const { return !grads.empty(); }
};

// The tensor named `name` in `list`, or an undefined tensor.
inline Tensor find_tensor(const std::vector<NamedTensor>& list, const std::string& name) {
  for (const NamedTensor& t : list) {
    if (t.name == name) return t.value;
  }
  return Tensor();
}

namespace fixture_detail {

inline DType parse_dtype(const std::string& name, const std::string& where) {
  for (DType d : {kBool, kUInt8, kInt32, kInt64, kFloat32, kFloat64}) {
    if (name == dtype_name(d)) return d;
  }
  throw ParseError(where + ": unknown dtype '" + name + "'");
}

// "[2,3,4]" -> {2, 3, 4}; "[]" -> {} (a 0-d tensor).
inline Shape parse_shape(const std::string& text, const std::string& where) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
    throw ParseError(where + ": expected a shape like [2,3], got '" + text + "'");
  }
  Shape shape;
  std::stringstream items(text.substr(1, text.size() - 2));
  std::string item;
  while (std::getline(items, item, ',')) {
    char* end = nullptr;
    const long long size = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || size < 0) {
      throw ParseError(where + ": bad size '" + item + "' in shape " + text);
    }
    shape.push_back(size);
  }
  return shape;
}

// One value token as T: strtof for float32 so the shortest float32 decimal reads back exactly.
template <typename T>
T parse_value(const std::string& token, const std::string& where) {
  char* end = nullptr;
  errno = 0;
  T value{};
  if constexpr (std::is_same_v<T, float>) {
    value = std::strtof(token.c_str(), &end);
  } else if constexpr (std::is_same_v<T, double>) {
    value = std::strtod(token.c_str(), &end);
  } else {
    value = static_cast<T>(std::strtoll(token.c_str(), &end, 10));
  }
  if (token.empty() || *end != '\0' || errno == ERANGE) {
    throw ParseError(where + ": bad value '" + token + "'");
  }
  return value;
}

inline Tensor parse_tensor(DType dtype, const Shape& shape, const std::string& values,
                           const std::string& where) {
  Tensor t = make_tensor(shape, dtype, Device::cpu());
  std::istringstream tokens(values);
  std::vector<std::string> words;
  for (std::string w; tokens >> w;) words.push_back(w);
  if (static_cast<int64_t>(words.size()) != t.numel()) {
    throw ParseError(where + ": shape " + shape_str(shape) + " needs " +
                     std::to_string(t.numel()) + " values, got " +
                     std::to_string(words.size()));
  }
  visit_dtype(dtype, [&]<typename T>() {
    T* data = t.data_ptr<T>();
    for (size_t i = 0; i < words.size(); ++i) data[i] = parse_value<T>(words[i], where);
  });
  return t;
}

}  // namespace fixture_detail

// All cases of a fixture file, in file order. Throws ParseError naming the file and line.
inline std::vector<FixtureCase> load_fixtures(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ParseError("load_fixtures: cannot open " + path);
  std::vector<FixtureCase> cases;
  FixtureCase* current = nullptr;
  std::string line;
  int line_nr = 0;
  while (std::getline(in, line)) {
    ++line_nr;
    const std::string where = path + ":" + std::to_string(line_nr);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string role;
    words >> role;
    if (role == "case") {
      if (current != nullptr) throw ParseError(where + ": 'case' before 'end'");
      FixtureCase c;
      if (!(words >> c.name >> c.dtype)) throw ParseError(where + ": expected 'case NAME DTYPE'");
      cases.push_back(std::move(c));
      current = &cases.back();
    } else if (role == "end") {
      if (current == nullptr) throw ParseError(where + ": 'end' outside a case");
      current = nullptr;
    } else if (role == "input" || role == "output" || role == "weight" || role == "grad") {
      if (current == nullptr) throw ParseError(where + ": '" + role + "' outside a case");
      std::string name, dtype, shape;
      if (!(words >> name >> dtype >> shape)) {
        throw ParseError(where + ": expected '" + role + " NAME DTYPE [SHAPE]'");
      }
      std::string values;
      if (!std::getline(in, values)) throw ParseError(where + ": missing the values line");
      ++line_nr;
      NamedTensor t{name, fixture_detail::parse_tensor(fixture_detail::parse_dtype(dtype, where),
                                                       fixture_detail::parse_shape(shape, where),
                                                       values, where)};
      std::vector<NamedTensor>& list = role == "input"    ? current->inputs
                                       : role == "output" ? current->outputs
                                       : role == "weight" ? current->weights
                                                          : current->grads;
      list.push_back(std::move(t));
    } else {
      throw ParseError(where + ": unknown record '" + role + "'");
    }
  }
  if (current != nullptr) throw ParseError(path + ": case " + current->name + " has no 'end'");
  return cases;
}

}  // namespace ignis::test
