// What the cuDNN convolution (cuda/cudnn_conv.cpp) exposes besides its dispatch slots: the
// size of its plan cache, for tests and reports. Exists only in a build with cuDNN
// (IGNIS_HAVE_CUDNN); plain C++, no cuDNN header.
#pragma once

#include <cstddef>

namespace ignis::cuda {

// The number of cached plans: one per (direction, device, dtype, TF32 switch, shapes, window,
// groups) seen so far, each holding the algorithm chosen for it.
size_t cudnn_plan_count();

}  // namespace ignis::cuda
