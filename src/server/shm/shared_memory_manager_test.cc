#include "server/shm/shared_memory_manager.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/shm/system_shared_memory_region.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

const SharedMemoryClient kLocal = SharedMemoryClient::FromAddress("127.0.0.1");
const SystemSharedMemoryRegion::Owners kMine = {{static_cast<uint32_t>(geteuid())}, "test"};

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
  ASSERT_TRUE(manager.Register(kLocal, "r", object.key(), 5000, 4000).ok());
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
  absl::Status status = manager.Register(kLocal, "r", object.key(), 4000, 100);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("out of bounds"));
  EXPECT_EQ(manager.Register(kLocal, "r", object.key(), 0, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager.Register(kLocal, "r", object.key(), 96, 4000).ok());
}

TEST(SharedMemoryManagerTest, RefusesAnUnknownKeyWithTheErrnoText) {
  SharedMemoryManager manager;
  absl::Status status = manager.Register(kLocal, "r", "/sonic_no_such_key_for_test", 0, 16);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("No such file"));
}

TEST(SharedMemoryManagerTest, RefusesADuplicateName) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register(kLocal, "r", object.key(), 0, 64).ok());
  EXPECT_EQ(manager.Register(kLocal, "r", object.key(), 64, 64).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(SharedMemoryManagerTest, ChecksAccessesWithinTheRegion) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register(kLocal, "r", object.key(), 0, 64).ok());
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
  ASSERT_TRUE(manager.Register(kLocal, "r", object.key(), 0, 4096).ok());
  auto region = manager.Acquire("r");
  ASSERT_TRUE(region.ok());
  ASSERT_TRUE(manager.Unregister(kLocal, SharedMemoryKind::kSystem, "r").ok());
  EXPECT_EQ(manager.Acquire("r").status().code(), absl::StatusCode::kInvalidArgument);
  // The request's reference still maps the bytes.
  auto bytes = (*region)->Bytes(100, 1);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[0]), 100);
  // The name is free again.
  EXPECT_TRUE(manager.Register(kLocal, "r", object.key(), 0, 16).ok());
}

TEST(SharedMemoryManagerTest, StatusListsRegionsAndUnregisterAllCleansUp) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register(kLocal, "a", object.key(), 0, 16).ok());
  ASSERT_TRUE(manager.Register(kLocal, "b", object.key(), 16, 32).ok());
  auto all = manager.Status(kLocal, SharedMemoryKind::kSystem, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].name, "b");
  EXPECT_EQ((*all)[1].key, object.key());
  EXPECT_EQ((*all)[1].offset, 16u);
  EXPECT_EQ((*all)[1].byte_size, 32u);
  EXPECT_EQ(manager.Status(kLocal, SharedMemoryKind::kSystem, "a")->size(), 1u);
  EXPECT_EQ(manager.Status(kLocal, SharedMemoryKind::kSystem, "zzz").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager.Unregister(kLocal, SharedMemoryKind::kSystem, "zzz").ok()) << "as Triton";
  manager.UnregisterAll();
  EXPECT_TRUE(manager.Status(kLocal, SharedMemoryKind::kSystem, "")->empty());
}

// A region in "device" memory for the tests: bytes it holds itself, reached only by copies.
class FakeDeviceRegion final : public SharedMemoryRegion {
 public:
  FakeDeviceRegion(std::string name, uint64_t byte_size)
      : SharedMemoryRegion(std::move(name), SharedMemoryKind::kCuda, byte_size),
        bytes_(byte_size) {}
  SharedMemoryRegionStatus Status() const override {
    SharedMemoryRegionStatus status;
    status.name = name();
    status.kind = kind();
    status.device_id = 3;
    status.byte_size = byte_size();
    return status;
  }
  absl::StatusOr<std::span<std::byte>> Bytes(uint64_t, uint64_t) const override {
    return absl::FailedPreconditionError("device memory");
  }
  absl::Status Read(uint64_t offset, std::span<std::byte> destination) const override {
    if (absl::Status window = CheckWindow(offset, destination.size()); !window.ok()) return window;
    std::memcpy(destination.data(), bytes_.data() + offset, destination.size());
    return absl::OkStatus();
  }
  absl::Status Write(uint64_t offset, std::span<const std::byte> source) const override {
    if (absl::Status window = CheckWindow(offset, source.size()); !window.ok()) return window;
    std::memcpy(bytes_.data() + offset, source.data(), source.size());
    return absl::OkStatus();
  }

 private:
  mutable std::vector<std::byte> bytes_;
};

absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> OpenFake(const std::string& name) {
  return std::make_shared<FakeDeviceRegion>(name, 64);
}

TEST(SharedMemoryManagerTest, SystemAndCudaRegionsShareNamesButNotStatusOrUnregister) {
  ShmObject object(4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register(kLocal, "sys", object.key(), 0, 16).ok());
  ASSERT_TRUE(manager.Register(kLocal, "dev", [] { return OpenFake("dev"); }).ok());
  // One namespace: a CUDA region cannot take a system region's name, nor the reverse.
  EXPECT_EQ(manager.Register(kLocal, "sys", [] { return OpenFake("sys"); }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(manager.Register(kLocal, "dev", object.key(), 0, 16).code(),
            absl::StatusCode::kAlreadyExists);

  auto cuda = manager.Status(kLocal, SharedMemoryKind::kCuda, "");
  ASSERT_TRUE(cuda.ok());
  ASSERT_EQ(cuda->size(), 1u);
  EXPECT_EQ((*cuda)[0].name, "dev");
  EXPECT_EQ((*cuda)[0].device_id, 3);
  EXPECT_EQ(manager.Status(kLocal, SharedMemoryKind::kCuda, "sys").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager.Unregister(kLocal, SharedMemoryKind::kSystem, "dev").ok());
  EXPECT_EQ(manager.Status(kLocal, SharedMemoryKind::kCuda, "dev")->size(), 1u)
      << "unregistering as the other kind leaves the region";

  manager.UnregisterAll(kLocal, SharedMemoryKind::kCuda);
  EXPECT_TRUE(manager.Status(kLocal, SharedMemoryKind::kCuda, "")->empty());
  EXPECT_EQ(manager.Status(kLocal, SharedMemoryKind::kSystem, "")->size(), 1u);
  EXPECT_TRUE(manager.Acquire("sys").ok());
}

TEST(SharedMemoryManagerTest, AnOpenerErrorIsReturnedAndRegistersNothing) {
  SharedMemoryManager manager;
  absl::Status status =
      manager.Register(kLocal, "dev", []() -> absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> {
        return absl::UnimplementedError("no CUDA here");
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(manager.Acquire("dev").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager.Register(kLocal, "", [] { return OpenFake(""); }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SharedMemoryManagerTest, SystemRegionsReadAndWriteByCopyToo) {
  ShmObject object(4096);
  auto region = SystemSharedMemoryRegion::Create("r", object.key(), 100, 50, kMine);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_TRUE((*region)->in_host_memory());
  std::byte buffer[4];
  ASSERT_TRUE((*region)->Read(2, buffer).ok());
  EXPECT_EQ(static_cast<unsigned char>(buffer[0]), 102);
  const std::byte value[2] = {std::byte{7}, std::byte{9}};
  ASSERT_TRUE((*region)->Write(48, value).ok());
  EXPECT_EQ(object.data()[149], 9);
  EXPECT_EQ((*region)->Write(49, value).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SharedMemoryManagerTest, AnObjectShrunkAfterRegistrationIsAnErrorNotASigbus) {
  ShmObject object(3 * 4096);
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register(kLocal, "shrunk", object.key(), 4096, 2 * 4096).ok());
  auto region = manager.Acquire("shrunk");
  ASSERT_TRUE(region.ok()) << region.status();
  int fd = shm_open(object.key().c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4096 + 100), 0);
  close(fd);

  EXPECT_TRUE((*region)->Bytes(0, 100).ok()) << "the bytes still in the object stay usable";
  auto bytes = (*region)->Bytes(0, 4096);
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bytes.status().message(), HasSubstr("region 'shrunk'"));
  EXPECT_THAT(bytes.status().message(), HasSubstr("shrunk to 4196 bytes"));
  std::vector<std::byte> out(4096);
  EXPECT_EQ((*region)->Read(0, out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*region)->Write(4096, out).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SharedMemoryManagerTest, RegionCountAndTotalSizeAreBounded) {
  ShmObject object(4096);
  SharedMemoryManager manager({.max_regions = 2, .max_total_bytes = 5000});
  ASSERT_TRUE(manager.Register(kLocal, "a", object.key(), 0, 2000).ok());
  absl::Status too_big = manager.Register(kLocal, "b", object.key(), 0, 4000);
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted) << too_big;
  EXPECT_THAT(too_big.message(), HasSubstr("--max-shared-memory-bytes"));
  ASSERT_TRUE(manager.Register(kLocal, "b", object.key(), 0, 3000).ok());
  absl::Status too_many = manager.Register(kLocal, "c", object.key(), 0, 1);
  EXPECT_EQ(too_many.code(), absl::StatusCode::kResourceExhausted) << too_many;
  EXPECT_THAT(too_many.message(), HasSubstr("--max-shared-memory-regions"));
  // Unregistering gives the room back.
  ASSERT_TRUE(manager.Unregister(kLocal, SharedMemoryKind::kSystem, "a").ok());
  EXPECT_TRUE(manager.Register(kLocal, "c", object.key(), 0, 2000).ok());
  manager.UnregisterAll();
  EXPECT_TRUE(manager.Register(kLocal, "d", object.key(), 0, 4096).ok());
}

TEST(SharedMemoryManagerTest, ErrorsQuoteLongNamesShortened) {
  SharedMemoryManager manager;
  const std::string long_name(10000, 'n');
  absl::Status status = manager.Status(kLocal, SharedMemoryKind::kSystem, long_name).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(status.message().size(), 300u);
  EXPECT_THAT(status.message(), HasSubstr("nnn..."));
}

TEST(SharedMemoryClientTest, ClientsAreKnownByHostWithLoopbackAsOne) {
  for (const char* peer : {"ipv4:127.0.0.1:50000", "ipv4:127.1.2.3:1", "ipv6:[::1]:50000",
                           "ipv6:%5B::1%5D:50000", "ipv6:[::ffff:127.0.0.1]:7"}) {
    EXPECT_EQ(SharedMemoryClient::FromGrpcPeer(peer).identity, "loopback") << peer;
  }
  EXPECT_EQ(SharedMemoryClient::FromGrpcPeer("ipv4:10.1.2.3:99").identity, "10.1.2.3");
  EXPECT_EQ(SharedMemoryClient::FromGrpcPeer("ipv6:[::ffff:10.1.2.3]:99").identity, "10.1.2.3");
  EXPECT_EQ(SharedMemoryClient::FromGrpcPeer("ipv6:[2001:db8::1]:99").identity, "2001:db8::1");
  EXPECT_EQ(SharedMemoryClient::FromAddress("::ffff:10.1.2.3").identity, "10.1.2.3");
  EXPECT_EQ(SharedMemoryClient::FromAddress("::1").identity, "loopback");
  EXPECT_FALSE(SharedMemoryClient::FromAddress("10.1.2.3").uid.has_value());
  const SharedMemoryClient unix_peer = SharedMemoryClient::FromUid(1234);
  EXPECT_EQ(unix_peer.identity, "uid 1234");
  EXPECT_EQ(unix_peer.uid, 1234u);
}

// Gives the object to `uid` (needs root).
bool Chown(const std::string& key, uid_t uid) {
  int fd = shm_open(key.c_str(), O_RDWR, 0);
  if (fd < 0) return false;
  const bool changed = fchown(fd, uid, static_cast<gid_t>(-1)) == 0;
  close(fd);
  return changed;
}

TEST(SharedMemoryManagerTest, ObjectsOfUsersNotAllowedAreRefused) {
  ShmObject object(4096);
  const uint32_t me = geteuid();
  const uint32_t other = me == 65534 ? 65533 : 65534;
  SharedMemoryManager only_other({.allowed_owner_uids = {other}});
  absl::Status refused = only_other.Register(kLocal, "r", object.key(), 0, 16);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("--shared-memory-owner-uid"));
  // A peer on the Unix-domain socket registers objects it owns, whatever the allowed list.
  EXPECT_TRUE(
      only_other.Register(SharedMemoryClient::FromUid(me), "mine", object.key(), 0, 16).ok());
  absl::Status not_peers =
      only_other.Register(SharedMemoryClient::FromUid(other), "theirs", object.key(), 0, 16);
  EXPECT_EQ(not_peers.code(), absl::StatusCode::kPermissionDenied) << not_peers;

  SharedMemoryManager defaults;  // the server's own uid
  EXPECT_TRUE(defaults.Register(kLocal, "r", object.key(), 0, 16).ok());
  if (me != 0) GTEST_SKIP() << "giving an object to another user needs root";
  ASSERT_TRUE(Chown(object.key(), other));
  absl::Status foreign = defaults.Register(kLocal, "foreign", object.key(), 0, 16);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kPermissionDenied) << foreign;
  EXPECT_TRUE(only_other.Register(kLocal, "r", object.key(), 0, 16).ok());
}

TEST(SharedMemoryManagerTest, KeysMustStartWithThePrefix) {
  ShmObject object(4096);  // /sonic_shm_manager_test_...
  SharedMemoryManager wrong({.key_prefix = "/other_"});
  absl::Status refused = wrong.Register(kLocal, "r", object.key(), 0, 16);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("--shared-memory-key-prefix"));
  // Leading slashes do not count, as for shm_open.
  SharedMemoryManager right({.key_prefix = "sonic_shm_manager_"});
  EXPECT_TRUE(right.Register(kLocal, "r", object.key(), 0, 16).ok());
  EXPECT_TRUE(right.Register(kLocal, "s", object.key().substr(1), 0, 16).ok());
}

TEST(SharedMemoryManagerTest, SystemRegionsCanBeKeptToTheUnixSocketOrOff) {
  ShmObject object(4096);
  const SharedMemoryClient peer = SharedMemoryClient::FromUid(geteuid());
  SharedMemoryManager unix_only({.system_access = SystemSharedMemoryAccess::kUnixSocket});
  absl::Status tcp = unix_only.Register(kLocal, "r", object.key(), 0, 16);
  EXPECT_EQ(tcp.code(), absl::StatusCode::kPermissionDenied) << tcp;
  EXPECT_THAT(tcp.message(), HasSubstr("--system-shared-memory"));
  EXPECT_TRUE(unix_only.Register(peer, "r", object.key(), 0, 16).ok());
  SharedMemoryManager off({.system_access = SystemSharedMemoryAccess::kNone});
  EXPECT_EQ(off.Register(peer, "r", object.key(), 0, 16).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SharedMemoryManagerTest, ClientsSeeAndUnregisterOnlyTheirOwnRegions) {
  ShmObject object(4096);
  const SharedMemoryClient a = SharedMemoryClient::FromAddress("10.0.0.1");
  const SharedMemoryClient b = SharedMemoryClient::FromAddress("10.0.0.2");
  SharedMemoryManager manager;
  ASSERT_TRUE(manager.Register(a, "a1", object.key(), 0, 16).ok());
  ASSERT_TRUE(manager.Register(a, "a2", object.key(), 0, 16).ok());
  ASSERT_TRUE(manager.Register(b, "b1", object.key(), 0, 16).ok());
  EXPECT_EQ(manager.Register(b, "a1", object.key(), 0, 16).code(),
            absl::StatusCode::kAlreadyExists);

  auto seen_by_b = manager.Status(b, SharedMemoryKind::kSystem, "");
  ASSERT_TRUE(seen_by_b.ok());
  ASSERT_EQ(seen_by_b->size(), 1u);
  EXPECT_EQ((*seen_by_b)[0].name, "b1");
  EXPECT_EQ(manager.Status(b, SharedMemoryKind::kSystem, "a1").status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::Status theirs = manager.Unregister(b, SharedMemoryKind::kSystem, "a1");
  EXPECT_EQ(theirs.code(), absl::StatusCode::kPermissionDenied) << theirs;
  manager.UnregisterAll(b, SharedMemoryKind::kSystem);  // an Unregister without a name
  EXPECT_TRUE(manager.Status(b, SharedMemoryKind::kSystem, "")->empty());
  EXPECT_EQ(manager.Status(a, SharedMemoryKind::kSystem, "")->size(), 2u);
  EXPECT_TRUE(manager.Acquire("a1").ok());
  EXPECT_TRUE(manager.Acquire(a, "a1").ok());
  EXPECT_TRUE(ClientRegions(manager, a).Acquire("a2").ok());
  EXPECT_EQ(ClientRegions(manager, b).Acquire("a1").status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_TRUE(manager.Unregister(a, SharedMemoryKind::kSystem, "a1").ok());
  manager.UnregisterAll(a, SharedMemoryKind::kSystem);
  EXPECT_EQ(manager.Acquire("a2").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sonic::server
