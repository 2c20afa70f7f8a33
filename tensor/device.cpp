// Device parsing and printing ("cpu", "cuda", "cuda:1"). Not device management: see cuda/.
#include "tensor/device.h"

#include <charconv>

#include "tensor/error.h"

namespace ignis {

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  const std::string prefix = "cuda:";
  if (text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0) {
    int index = -1;
    const char* first = text.data() + prefix.size();
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && end == last && index >= 0) return cuda(index);
  }
  throw ValueError("Device::parse: expected 'cpu', 'cuda' or 'cuda:N', got '" + text + "'");
}

std::string Device::str() const {
  if (is_cpu()) return "cpu";
  return "cuda:" + std::to_string(index);
}

}  // namespace ignis
