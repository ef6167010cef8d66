#include "server/shm/shared_memory_manager.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

// A POSIX shm object of `size` bytes filled with 0..255, unlinked at the end of the test.
class ShmObject {
 public:
  explicit ShmObject(size_t size)
      : key_(absl::StrCat("/sonic_shm_manager_test_", getpid(), "_", counter_++)) {
    int fd = shm_open(key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    data_ =
        static_cast<unsigned char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    size_ = size;
    for (size_t i = 0; i < size; ++i) data_[i] = static_cast<unsigned char>(i);
  }
  ~ShmObject() {
    munmap(data_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  unsigned char* data() { return data_; }

 private:
  static inline int counter_ = 0;
  std::string key_;
  unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

TEST(SharedMemoryManagerTest, RegistersAndReadsAWindowAtAnOffset) {
  ShmObject object(10000);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register("r", object.key(), 5000, 4000).ok());
  auto region = manager.Acquire("r");
  ASSERT_TRUE(region.ok()) << region.status();
  auto bytes = (*region)->Bytes(10, 4);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[0]), static_cast<unsigned char>(5010));
  // Writes reach the client's mapping.
  (*bytes)[1] = std::byte{0xAB};
  EXPECT_EQ(object.data()[5011], 0xAB);
}

TEST(SharedMemoryManagerTest, RefusesWindowsOutOfTheObject) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  absl::Status status = manager.Register("r", object.key(), 4000, 100);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("out of bounds"));
  EXPECT_EQ(manager.Register("r", object.key(), 0, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager.Register("r", object.key(), 96, 4000).ok());
}

TEST(SharedMemoryManagerTest, RefusesAnUnknownKeyWithTheErrnoText) {
  SharedMemoryManager manager;
  absl::Status status = manager.Register("r", "/sonic_no_such_key_for_test", 0, 16);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("No such file"));
}

TEST(SharedMemoryManagerTest, RefusesADuplicateName) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register("r", object.key(), 0, 64).ok());
  EXPECT_EQ(manager.Register("r", object.key(), 64, 64).code(), absl::StatusCode::kAlreadyExists);
}

TEST(SharedMemoryManagerTest, ChecksAccessesWithinTheRegion) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register("r", object.key(), 0, 64).ok());
  auto region = manager.Acquire("r");
  ASSERT_TRUE(region.ok());
  EXPECT_TRUE((*region)->Bytes(0, 64).ok());
  EXPECT_EQ((*region)->Bytes(60, 8).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*region)->Bytes(UINT64_MAX, 2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string((*region)->Bytes(65, 0).status().message()), HasSubstr("'r'"));
}

TEST(SharedMemoryManagerTest, UnregisterKeepsTheMappingOfARunningRequestValid) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register("r", object.key(), 0, 4096).ok());
  auto region = manager.Acquire("r");
  ASSERT_TRUE(region.ok());
  ASSERT_TRUE(manager.Unregister("r").ok());
  EXPECT_EQ(manager.Acquire("r").status().code(), absl::StatusCode::kInvalidArgument);
  // The request's reference still maps the bytes.
  auto bytes = (*region)->Bytes(100, 1);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[0]), 100);
  // The name is free again.
  EXPECT_TRUE(manager.Register("r", object.key(), 0, 16).ok());
}

TEST(SharedMemoryManagerTest, StatusListsRegionsAndUnregisterAllCleansUp) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register("a", object.key(), 0, 16).ok());
  ASSERT_TRUE(manager.Register("b", object.key(), 16, 32).ok());
  auto all = manager.Status("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].name, "b");
  EXPECT_EQ((*all)[1].key, object.key());
  EXPECT_EQ((*all)[1].offset, 16u);
  EXPECT_EQ((*all)[1].byte_size, 32u);
  EXPECT_EQ(manager.Status("a")->size(), 1u);
  EXPECT_EQ(manager.Status("zzz").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager.Unregister("zzz").code(), absl::StatusCode::kInvalidArgument);
  manager.UnregisterAll();
  EXPECT_TRUE(manager.Status("")->empty());
}

}  // namespace
}  // namespace sonic::server
