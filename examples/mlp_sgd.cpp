// Trains a two-layer MLP to fit y = sin(x) with full-batch gradient descent, written with raw
// tensors and autograd only: no nn/ layers, no optim/ optimizer. A teaching example, not a model.
// Exits 1 if the loss has not fallen well below where it started.
#include <cmath>
#include <cstdio>
#include <vector>

#include "ignis.h"

using namespace ignis;

int main() {
  constexpr int64_t kPoints = 128;  // N: samples of x in [-3, 3]
  constexpr int64_t kHidden = 32;   // H: hidden units
  constexpr int kSteps = 1000;
  constexpr double kLearningRate = 0.01;

  // The data, made on the host: N evenly spaced x and their sines.
  std::vector<float> xs(kPoints), ys(kPoints);
  for (int64_t i = 0; i < kPoints; ++i) {
    xs[i] = -3.f + 6.f * static_cast<float>(i) / (kPoints - 1);
    ys[i] = std::sin(xs[i]);
  }
  Tensor x = from_vector(xs, Shape{kPoints, 1});  // (N, 1)
  Tensor y = from_vector(ys, Shape{kPoints, 1});  // (N, 1)

  // The parameters. The first layer's biases spread the ReLU kinks over the input range;
  // the second layer's weights are scaled by 1/sqrt(H) so the first predictions stay small.
  manual_seed(0);
  Tensor w1 = randn({1, kHidden});                               // (1, H)
  Tensor b1 = rand({kHidden}) * 6.0 - 3.0;                       // (H)
  Tensor w2 = randn({kHidden, 1}) * (1.0 / std::sqrt(kHidden));  // (H, 1)
  Tensor b2 = zeros({1});                                        // (1)
  const std::vector<Tensor> parameters = {w1, b1, w2, b2};
  for (const Tensor& p : parameters) p.requires_grad_();

  float first_loss = 0.f;
  float last_loss = 0.f;
  for (int step = 0; step <= kSteps; ++step) {
    Tensor hidden = relu(matmul(x, w1) + b1);  // (N, H)
    Tensor prediction = matmul(hidden, w2) + b2;  // (N, 1)
    Tensor loss = mean(square(prediction - y));   // 0-d: mean squared error
    loss.backward();

    {
      // The update must not be recorded: it is not part of the model's function.
      NoGradGuard no_grad;
      for (const Tensor& p : parameters) {
        p.sub_(p.grad(), kLearningRate);  // p -= lr * dp
        p.grad().zero_();
      }
    }

    last_loss = loss.item<float>();
    if (step == 0) first_loss = last_loss;
    if (step % 100 == 0) std::printf("step %4d  loss %.5f\n", step, last_loss);
  }

  if (!(last_loss < 0.1f * first_loss)) {
    std::fprintf(stderr, "mlp_sgd: the loss did not fall enough: %.5f -> %.5f\n", first_loss,
                 last_loss);
    return 1;
  }
  return 0;
}
