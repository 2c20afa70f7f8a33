// `ignis train-images`: trains an image classifier (mlp or cnn) on MNIST-format IDX files such
// as Fashion-MNIST. Not the text job (commands.h: train, predict) nor the IDX reader (data/idx.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/container.h"

namespace ignis::cli {

// `ignis train-images --data DIR [--model mlp|cnn] ...`: takes the arguments after the command
// name, returns the exit status (0), throws UsageError for a bad command line and what the IDX
// reader throws for missing or malformed files (main prints one line and exits 2).
int run_train_images(const std::vector<std::string>& args);

// The models of train-images, for (N, 1, height, width) images and `classes` classes:
//   mlp: flatten, Linear(h*w, 512), ReLU, Linear(512, 256), ReLU, Linear(256, classes)
//   cnn: Conv2d(1, 32, 3, pad 1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, pad 1), ReLU,
//        MaxPool2d(2), flatten, Linear(64*(h/4)*(w/4), 128), ReLU, Linear(128, classes)
// where each hidden Linear has its ReLU fused (nn::Linear with Activation::Relu) and an
// Identity holds the ReLU's place, so the parameter names are PyTorch's (1.weight, ...).
// Initialised from default_generator() by `init`:
//   pytorch: each layer's default, as PyTorch's: weight and bias ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in))
//   he:      every weight ~ N(0, 2 / fan_in) (kaiming_normal, ReLU gain), every bias 0
// Throws UsageError for another kind or init, and ShapeError naming the size for a cnn on
// images smaller than 4x4.
nn::Sequential make_image_model(const std::string& kind, int64_t height, int64_t width,
                                int64_t classes, const std::string& init);

}  // namespace ignis::cli
