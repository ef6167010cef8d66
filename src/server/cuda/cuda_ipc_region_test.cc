#include "server/cuda/cuda_ipc_region.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "server/cuda/cuda_devices.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

const std::string kZeroHandle(kCudaIpcHandleSize, '\0');

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(CudaIpcRegionTest, WithoutCudaTheRegionsAreUnimplementedAndThereAreNoDevices) {
  if (CudaSupportBuilt()) GTEST_SKIP() << "built with CUDA";
  EXPECT_EQ(CudaDeviceCount(), 0);
  auto region = OpenCudaIpcRegion("r", kZeroHandle, 0, 64);
  EXPECT_EQ(region.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(Message(region.status()), HasSubstr("built without CUDA"));
}

TEST(CudaIpcRegionTest, RejectsMalformedArgumentsBeforeAnyCudaCall) {
  if (!CudaSupportBuilt()) GTEST_SKIP() << "built without CUDA";
  auto short_handle = OpenCudaIpcRegion("r", "abc", 0, 64);
  EXPECT_EQ(short_handle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(short_handle.status()), HasSubstr("raw_handle has 3 bytes"));
  EXPECT_EQ(OpenCudaIpcRegion("r", kZeroHandle, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCudaIpcRegion("", kZeroHandle, 0, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CudaIpcRegionTest, RejectsADeviceThatIsNotVisible) {
  if (!CudaSupportBuilt()) GTEST_SKIP() << "built without CUDA";
  const int devices = CudaDeviceCount();
  for (int64_t device : {int64_t{-1}, int64_t{devices}}) {
    auto region = OpenCudaIpcRegion("r", kZeroHandle, device, 64);
    EXPECT_EQ(region.status().code(), absl::StatusCode::kInvalidArgument) << device;
    EXPECT_THAT(Message(region.status()), HasSubstr("does not exist"));
    EXPECT_THAT(Message(region.status()), HasSubstr("sees " + std::to_string(devices)));
  }
}

TEST(CudaIpcRegionTest, AHandleCudaCannotOpenIsAClearError) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device visible";
  auto region = OpenCudaIpcRegion("r", kZeroHandle, 0, 64);
  EXPECT_EQ(region.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(region.status()), HasSubstr("cannot open the IPC handle on device 0"));
}

}  // namespace
}  // namespace sonic::server
