// Fuzz target: the shared-memory registry under any sequence of what clients may ask: register
// system regions (real POSIX objects of 64 B and 64 KiB, a missing key, hostile keys) with any
// offset and size, unregister by name or all, ask the status, acquire. Three clients (two hosts
// and a Unix-socket peer) and small limits (3 regions, 80 KiB in all), so that the limits, the
// ownership checks and the name clashes all come into play. The input is a sequence of
// decisions (FuzzInput).
//
// Beyond not crashing (the sanitizers' part; every byte of every acquired window is read):
// a client's status lists exactly the regions it can acquire as its own, never another's, and
// every registered window lies within its object.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "server/shm/shared_memory_manager.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using sonic::fuzz::FuzzInput;
using sonic::server::SharedMemoryClient;
using sonic::server::SharedMemoryKind;
using sonic::server::SharedMemoryManager;

constexpr uint64_t kSmallBytes = 64;
constexpr uint64_t kLargeBytes = 64 << 10;
constexpr const char* kNames[] = {"a", "b", "c", ""};
constexpr uint64_t kInteresting[] = {0,  1,   63, 64,          65, 4096, kLargeBytes - 1,
                                     kLargeBytes, kLargeBytes + 1, uint64_t{1} << 63,
                                     ~uint64_t{0}};

struct Objects {
  std::string small = "/sonic_shm_fuzz_small_" + std::to_string(getpid());
  std::string large = "/sonic_shm_fuzz_large_" + std::to_string(getpid());

  Objects() {
    Make(small, kSmallBytes);
    Make(large, kLargeBytes);
  }
  // The objects stay until the process ends (every run registers them anew); an exit handler
  // removes them.
  static void Make(const std::string& key, uint64_t size) {
    const int fd = shm_open(key.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) std::abort();
    close(fd);
  }
};

const Objects& TheObjects() {
  static const Objects* objects = [] {
    auto* made = new Objects();
    std::atexit([] {
      shm_unlink(TheObjects().small.c_str());
      shm_unlink(TheObjects().large.c_str());
    });
    return made;
  }();
  return *objects;
}

uint64_t Number(FuzzInput& input) {
  return input.Bool() ? kInteresting[input.Below(std::size(kInteresting))]
                      : input.Integer<uint64_t>();
}

void CheckClient(const SharedMemoryManager& registry, const SharedMemoryClient& client) {
  auto status = registry.Status(client, SharedMemoryKind::kSystem, "");
  if (!status.ok()) std::abort();
  for (const auto& region : *status) {
    auto acquired = registry.Acquire(client, region.name);
    if (!acquired.ok()) std::abort();
    const uint64_t object_size = region.key == TheObjects().small ? kSmallBytes : kLargeBytes;
    if (region.offset > object_size || region.byte_size > object_size - region.offset) std::abort();
    auto bytes = (*acquired)->Bytes(0, (*acquired)->byte_size());
    if (!bytes.ok()) std::abort();
    volatile std::byte sink{};
    for (std::byte b : *bytes) sink = sink ^ b;
  }
  for (const char* name : kNames) {
    const bool listed = std::any_of(status->begin(), status->end(),
                                    [&](const auto& region) { return region.name == name; });
    if (registry.Acquire(client, name).ok() != listed) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Objects& objects = TheObjects();
  const std::string keys[] = {objects.small, objects.large, "/sonic_shm_fuzz_missing",
                              "../../etc/passwd", "", objects.small + "/x"};
  const SharedMemoryClient clients[] = {SharedMemoryClient::FromAddress("127.0.0.1"),
                                        SharedMemoryClient::FromAddress("10.1.2.3"),
                                        SharedMemoryClient::FromUid(getuid())};
  SharedMemoryManager::Options options;
  options.max_regions = 3;
  options.max_total_bytes = 80 << 10;
  SharedMemoryManager registry(options);

  FuzzInput input(data, size);
  for (int step = 0; step < 32 && !input.empty(); ++step) {
    const SharedMemoryClient& client = clients[input.Below(std::size(clients))];
    const std::string name = kNames[input.Below(std::size(kNames))];
    switch (input.Below(5)) {
      case 0:
      case 1: {
        const std::string& key = keys[input.Below(std::size(keys))];
        const uint64_t offset = Number(input);
        (void)registry.Register(client, name, key, offset, Number(input));
        break;
      }
      case 2:
        (void)registry.Unregister(client, SharedMemoryKind::kSystem, name);
        break;
      case 3:
        registry.UnregisterAll(client, SharedMemoryKind::kSystem);
        break;
      default:
        (void)registry.Status(client, SharedMemoryKind::kCuda, name);
        break;
    }
    for (const SharedMemoryClient& each : clients) CheckClient(registry, each);
  }
  registry.UnregisterAll();
  return 0;
}
