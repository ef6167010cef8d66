// CUDA shared memory without a GPU: the not-built and no-device errors. The checks that need a
// device skip themselves when none is visible.
#include "cuda_shm_resource.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace sonic::transport {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

struct Registration {
  std::string name;
  std::string raw_handle;
  int device_id = -1;
  size_t byte_size = 0;
};

// Records what a server would be asked.
struct FakeServer {
  std::vector<Registration> registered;
  std::vector<std::string> unregistered;
  absl::Status register_result = absl::OkStatus();

  CudaShmRegistrar Registrar() {
    CudaShmRegistrar registrar;
    registrar.register_region = [this](const std::string& name, const std::string& raw_handle,
                                       int device_id, size_t byte_size) {
      registered.push_back({name, raw_handle, device_id, byte_size});
      return register_result;
    };
    registrar.unregister_region = [this](const std::string& name) {
      unregistered.push_back(name);
      return absl::OkStatus();
    };
    return registrar;
  }
};

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The resource on device 0, or the reason there is none.
absl::StatusOr<std::unique_ptr<MemoryResource>> OnDeviceZero(FakeServer& server) {
  return CreateCudaShmResource(0, server.Registrar());
}

TEST(CudaShmResourceTest, WithoutCudaItIsUnimplemented) {
  if (CudaShmBuilt()) GTEST_SKIP() << "built with CUDA";
  FakeServer server;
  auto resource = OnDeviceZero(server);
  EXPECT_EQ(resource.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(Message(resource.status()), HasSubstr("built without CUDA"));
}

TEST(CudaShmResourceTest, ANegativeDeviceIsInvalid) {
  if (!CudaShmBuilt()) GTEST_SKIP() << "built without CUDA";
  FakeServer server;
  auto resource = CreateCudaShmResource(-1, server.Registrar());
  EXPECT_EQ(resource.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(resource.status()), HasSubstr("CUDA device -1"));
}

TEST(CudaShmResourceTest, ADeviceThisProcessDoesNotSeeIsNamed) {
  if (!CudaShmBuilt()) GTEST_SKIP() << "built without CUDA";
  FakeServer server;
  auto resource = CreateCudaShmResource(4096, server.Registrar());
  EXPECT_EQ(resource.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(resource.status()), HasSubstr("CUDA device 4096 is not available"));
  EXPECT_THAT(server.registered, IsEmpty());
}

TEST(CudaShmResourceTest, WithoutAVisibleDeviceDeviceZeroIsRefused) {
  if (!CudaShmBuilt()) GTEST_SKIP() << "built without CUDA";
  FakeServer server;
  auto resource = OnDeviceZero(server);
  if (resource.ok()) GTEST_SKIP() << "a CUDA device is visible";
  EXPECT_EQ(resource.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(resource.status()), HasSubstr("CUDA device 0 is not available"));
  EXPECT_THAT(Message(resource.status()), HasSubstr("sees"));
}

TEST(CudaShmResourceTest, BytesRoundTripThroughTheDeviceAndRegionsAreRegistered) {
  FakeServer server;
  auto created = OnDeviceZero(server);
  if (!created.ok()) GTEST_SKIP() << created.status();
  {
    MemoryResource& cuda = **created;
    EXPECT_TRUE(cuda.shared());
    EXPECT_EQ(cuda.region(), "");
    ASSERT_TRUE(cuda.Reserve(100).ok());
    ASSERT_THAT(server.registered, SizeIs(1));
    const Registration& first = server.registered[0];
    EXPECT_EQ(first.name, cuda.region());
    EXPECT_EQ(first.raw_handle.size(), kCudaIpcHandleBytes);
    EXPECT_EQ(first.device_id, 0);
    EXPECT_GE(first.byte_size, 100u);
    ASSERT_EQ(cuda.data().size(), first.byte_size);

    for (size_t i = 0; i < 100; ++i) cuda.data()[i] = static_cast<std::byte>(i);
    ASSERT_TRUE(cuda.Flush(0, 100).ok());
    std::memset(cuda.data().data(), 0, 100);
    ASSERT_TRUE(cuda.Fetch(10, 90).ok());
    EXPECT_EQ(cuda.data()[9], std::byte{0});  // outside the fetched range
    EXPECT_EQ(cuda.data()[10], std::byte{10});
    EXPECT_EQ(cuda.data()[99], std::byte{99});
    EXPECT_EQ(cuda.Flush(first.byte_size - 1, 2).code(), absl::StatusCode::kOutOfRange);

    ASSERT_TRUE(cuda.Reserve(50).ok());  // fits: the same region
    EXPECT_THAT(server.registered, SizeIs(1));
    ASSERT_TRUE(cuda.Reserve(size_t{1} << 20).ok());  // grows: a new region
    EXPECT_THAT(server.registered, SizeIs(2));
    EXPECT_THAT(server.unregistered, ElementsAre(first.name));
  }
  created->reset();
  EXPECT_THAT(server.unregistered, SizeIs(2));
}

TEST(CudaShmResourceTest, ARefusedRegistrationLeavesNoRegion) {
  FakeServer server;
  server.register_result = absl::UnimplementedError("no CUDA shared memory here");
  auto created = OnDeviceZero(server);
  if (!created.ok()) GTEST_SKIP() << created.status();
  EXPECT_EQ((*created)->Reserve(100).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ((*created)->region(), "");
  EXPECT_TRUE((*created)->data().empty());
  created->reset();
  EXPECT_THAT(server.unregistered, IsEmpty());
}

}  // namespace
}  // namespace sonic::transport
