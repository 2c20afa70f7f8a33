// ignis error types: every user-facing failure is one of these exceptions.
// Not for internal invariants: those are bugs, checked with IGNIS_INTERNAL_ASSERT.
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>

namespace ignis {

// Base of every error ignis throws. The message names the op and the values involved.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ShapeError : public Error { using Error::Error; };      // sizes that do not fit
class DTypeError : public Error { using Error::Error; };      // unsupported or mismatched dtype
class DeviceError : public Error { using Error::Error; };     // wrong device, no kernel, CUDA failure
class IndexError : public Error { using Error::Error; };      // index or dim out of range
class ValueError : public Error { using Error::Error; };      // bad argument value
class ParseError : public Error { using Error::Error; };      // malformed file or text
class IOError : public Error { using Error::Error; };         // a file that cannot be read or written
class AutogradError : public Error { using Error::Error; };   // misuse of backward / graph

// Thrown when an internal invariant breaks: a bug in ignis, not a user error.
class InternalError : public Error { using Error::Error; };

[[noreturn]] void internal_error(const char* what,
                                 std::source_location loc = std::source_location::current());

}  // namespace ignis

#define IGNIS_INTERNAL_ASSERT(cond) \
  do {                              \
    if (!(cond)) ::ignis::internal_error(#cond); \
  } while (0)
