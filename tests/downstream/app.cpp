// A user's program built against an installed ignis: one product, one backward, checked.
// Not a test of the ops themselves (tests/ does that); it checks that the package links.
#include <cmath>
#include <cstdio>
#include <vector>

#include "ignis.h"

int main() {
  using namespace ignis;
  Tensor a = tensor({{1.f, 2.f}, {3.f, 4.f}});   // (2, 2)
  a.requires_grad_();
  Tensor b = tensor({{0.5f, -1.f}, {2.f, 1.f}});  // (2, 2)
  Tensor loss = matmul(a, b).sum();               // 0-d: sum of [[4.5, 1], [9.5, 1]]
  loss.backward();

  // d loss / d a[i][k] = sum_j b[k][j]: the row sums of b, (-0.5, 3), on every row.
  const std::vector<float> expected = {-0.5f, 3.f, -0.5f, 3.f};
  const std::vector<float> grad = a.grad().to_vector<float>();
  std::printf("loss %g, grad %g %g %g %g\n", loss.item<float>(), grad[0], grad[1], grad[2],
              grad[3]);
  bool ok = std::abs(loss.item<float>() - 16.f) < 1e-5f && grad.size() == expected.size();
  for (size_t i = 0; ok && i < grad.size(); ++i) ok = std::abs(grad[i] - expected[i]) < 1e-5f;
  return ok ? 0 : 1;
}
