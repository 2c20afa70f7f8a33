// ignis: the users' umbrella header. Internal files include what they use, never this.
#pragma once

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/generator.h"
#include "tensor/tensor.h"
#include "tensor/thread_pool.h"

#include "autograd/backward.h"
#include "autograd/dot.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/indexing.h"
#include "autograd/linalg.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
