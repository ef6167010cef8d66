// TritonClient::Create's checks of the shared-memory options, made before it connects: no server
// is needed (the address is one nothing listens on).
#include "sonic/client/triton_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cuda_shm_resource.h"
#include "sonic/client/client_error.h"

namespace sonic::client {
namespace {

using ::testing::HasSubstr;

TritonClient::Options CudaOptions(int device) {
  TritonClient::Options options;
  options.server_address = "127.0.0.1:1";
  options.model_name = "m";
  options.setup_timeout = absl::Seconds(2);
  options.shared_memory = SharedMemoryMode::kCuda;
  options.cuda_device = device;
  return options;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(TritonClientOptionsTest, CudaSharedMemoryInABuildWithoutCudaIsBadInput) {
  if (transport::CudaShmBuilt()) GTEST_SKIP() << "built with CUDA";
  absl::Status status = TritonClient::Create(CudaOptions(0)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(status), HasSubstr("model 'm'"));
  EXPECT_THAT(Message(status), HasSubstr("built without CUDA"));
}

TEST(TritonClientOptionsTest, CudaSharedMemoryOnADeviceNotVisibleIsBadInputNamingIt) {
  if (!transport::CudaShmBuilt()) GTEST_SKIP() << "built without CUDA";
  absl::Status status = TritonClient::Create(CudaOptions(4096)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(status), HasSubstr("CUDA device 4096 is not available"));
  EXPECT_FALSE(MayRetry(status));
}

TEST(TritonClientOptionsTest, CudaSharedMemoryWithoutAnyDeviceIsBadInput) {
  if (!transport::CudaShmBuilt()) GTEST_SKIP() << "built without CUDA";
  absl::Status status = TritonClient::Create(CudaOptions(0)).status();
  // With a device, Create() goes on to connect and finds no server.
  if (GetErrorCategory(status) == ErrorCategory::kServerUnavailable) {
    GTEST_SKIP() << "a CUDA device is visible";
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(status), HasSubstr("CUDA device 0 is not available"));
}

TEST(TritonClientOptionsTest, SystemSharedMemoryNeedsNoCheckBeforeConnecting) {
  TritonClient::Options options = CudaOptions(0);
  options.shared_memory = SharedMemoryMode::kAuto;
  absl::Status status = TritonClient::Create(options).status();
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kServerUnavailable) << status;
}

}  // namespace
}  // namespace sonic::client
