// Scalar::str: a number printed as Python prints it (True, 3, 2.5, 1.0, 1e-05).
#include "tensor/scalar.h"

#include <charconv>
#include <cmath>

namespace ignis {

std::string Scalar::str() const {
  if (is_bool()) return i_ != 0 ? "True" : "False";
  if (is_integral()) return std::to_string(i_);
  if (std::isnan(d_)) return "nan";
  if (std::isinf(d_)) return d_ > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d_);
  std::string text(buf, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace ignis
