// internal_error: the one place InternalError is thrown from (a broken invariant is a bug).
// Not for user errors: those throw ShapeError, DTypeError, ... at the op boundary.
#include "tensor/error.h"

namespace ignis {

void internal_error(const char* what, std::source_location loc) {
  throw InternalError(std::string("internal error: ") + what + " (at " + loc.file_name() + ":" +
                      std::to_string(loc.line()) + " in " + loc.function_name() +
                      "); this is a bug in ignis");
}

}  // namespace ignis
