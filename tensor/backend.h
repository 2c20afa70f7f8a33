// Which device backends this process can use: ignis::cuda::is_available() and friends.
// tensor/ never includes cuda/: the CUDA backend, when built, registers its device query here
// from a static initialiser, so these answer "no CUDA" in a CPU-only build.
#pragma once

namespace ignis {

namespace cuda {

// Whether ignis was built with the CUDA backend (IGNIS_CUDA and nvcc found).
bool is_compiled();
// Number of usable CUDA devices: 0 without the backend, without a driver or without a GPU.
int device_count();
// device_count() > 0.
bool is_available();

}  // namespace cuda

// Called once by the CUDA backend at load time with its device query.
void register_cuda_device_count(int (*device_count)());

}  // namespace ignis
