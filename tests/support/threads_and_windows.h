// Test helpers shared by the kernel tests: a guard that restores the thread count, and a
// readable name for a pooling / convolution window. Test support only, header-only.
#pragma once

#include <string>

#include "tensor/conv.h"
#include "tensor/tensor.h"
#include "tensor/thread_pool.h"

namespace ignis::test {

// Restores the thread count on scope exit; ThreadCountGuard(n) also sets it to n meanwhile.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(get_num_threads()) {}
  explicit ThreadCountGuard(int n) : ThreadCountGuard() { set_num_threads(n); }
  ~ThreadCountGuard() { set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

// "kernel (3, 3) stride (1, 1) padding (1, 1) dilation (1, 1)", for failure messages.
inline std::string window_str(const Window2d& w) {
  return "kernel " + shape_str({w.kernel_size[0], w.kernel_size[1]}) + " stride " +
         shape_str({w.stride[0], w.stride[1]}) + " padding " +
         shape_str({w.padding[0], w.padding[1]}) + " dilation " +
         shape_str({w.dilation[0], w.dilation[1]});
}

}  // namespace ignis::test
