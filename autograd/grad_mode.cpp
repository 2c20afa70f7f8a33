// The grad-mode switch: one flag per thread, on by default. Not the guards (grad_mode.h).
#include "autograd/grad_mode.h"

namespace ignis {

namespace {
thread_local bool grad_enabled = true;
}  // namespace

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace ignis
