// libsonic_test_ops.so: a TorchScript operator library as PyTorch Geometric's are built, one
// TORCH_LIBRARY registering sonic_test::scaled_add(a, b, alpha) = a + alpha * b. Loaded by the
// server through OPERATOR_LIBRARIES, and by the test itself to write and run the model using it.
#include <ATen/ATen.h>
#include <torch/library.h>

namespace {

at::Tensor ScaledAdd(const at::Tensor& a, const at::Tensor& b, double alpha) {
  return a + alpha * b;
}

}  // namespace

TORCH_LIBRARY(sonic_test, m) {
  m.def("scaled_add(Tensor a, Tensor b, float alpha) -> Tensor", &ScaledAdd);
}
