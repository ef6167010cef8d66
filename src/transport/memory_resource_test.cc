#include "memory_resource.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sonic::transport {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Records registrations; a registration sees the shm object under its key.
struct FakeServer {
  std::vector<std::string> registered;
  std::vector<std::string> unregistered;
  std::vector<size_t> sizes;
  bool key_existed = true;
  absl::Status register_result = absl::OkStatus();

  ShmRegistrar Registrar() {
    ShmRegistrar registrar;
    registrar.register_region = [this](const std::string& name, const std::string& key,
                                       size_t byte_size) {
      key_existed = key_existed && std::filesystem::exists("/dev/shm" + key);
      registered.push_back(name);
      sizes.push_back(byte_size);
      return register_result;
    };
    registrar.unregister_region = [this](const std::string& name) {
      unregistered.push_back(name);
      return absl::OkStatus();
    };
    return registrar;
  }
};

bool AnyShmEntryOfThisProcess() {
  const std::string prefix = "sonic_" + std::to_string(getpid()) + "_";
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    if (entry.path().filename().string().starts_with(prefix)) return true;
  }
  return false;
}

TEST(MemoryResourceTest, LocalAddresses) {
  EXPECT_TRUE(IsLocalAddress("127.0.0.1:8001"));
  EXPECT_TRUE(IsLocalAddress("localhost:8001"));
  EXPECT_TRUE(IsLocalAddress("[::1]:8001"));
  EXPECT_TRUE(IsLocalAddress("ipv4:127.0.0.1:8001"));
  EXPECT_TRUE(IsLocalAddress("unix:/tmp/sonic.sock"));
  EXPECT_FALSE(IsLocalAddress("10.0.0.2:8001"));
  EXPECT_FALSE(IsLocalAddress("triton.example.org:8001"));
  EXPECT_FALSE(IsLocalAddress("localhost.example.org:8001"));
}

TEST(MemoryResourceTest, HeapHasNoRegion) {
  HeapResource heap;
  EXPECT_EQ(heap.region(), "");
  EXPECT_FALSE(heap.Reserve(16).ok());
  EXPECT_TRUE(heap.data().empty());
}

TEST(MemoryResourceTest, RegionIsReusedGrownAndNeverLeftInDevShm) {
  FakeServer server;
  {
    SystemShmResource shm(server.Registrar());
    ASSERT_TRUE(shm.Reserve(100).ok());
    const std::string first = shm.region();
    EXPECT_THAT(first, ::testing::StartsWith("sonic_"));
    ASSERT_GE(shm.data().size(), 100u);
    shm.data()[99] = std::byte{7};
    ASSERT_TRUE(shm.Reserve(50).ok());  // fits: the same region
    EXPECT_EQ(shm.region(), first);
    EXPECT_THAT(server.registered, SizeIs(1));
    EXPECT_FALSE(AnyShmEntryOfThisProcess());  // unlinked once the server has it

    ASSERT_TRUE(shm.Reserve(1 << 20).ok());  // grows: a new region replaces the old one
    EXPECT_NE(shm.region(), first);
    EXPECT_GE(shm.data().size(), size_t{1} << 20);
    EXPECT_THAT(server.unregistered, ElementsAre(first));

    shm.Release();  // after a failed request: the next Reserve registers again
    EXPECT_EQ(shm.region(), "");
    ASSERT_TRUE(shm.Reserve(10).ok());
    EXPECT_THAT(server.registered, SizeIs(3));
  }
  EXPECT_THAT(server.unregistered, SizeIs(3));  // the destructor unregistered the last one
  EXPECT_TRUE(server.key_existed);
  EXPECT_FALSE(AnyShmEntryOfThisProcess());
}

TEST(MemoryResourceTest, ARefusedRegistrationLeavesNothing) {
  FakeServer server;
  server.register_result = absl::UnimplementedError("no shared memory here");
  SystemShmResource shm(server.Registrar());
  EXPECT_EQ(shm.Reserve(100).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(shm.region(), "");
  EXPECT_TRUE(shm.data().empty());
  EXPECT_FALSE(AnyShmEntryOfThisProcess());
  EXPECT_THAT(server.unregistered, IsEmpty());
}

}  // namespace
}  // namespace sonic::transport
