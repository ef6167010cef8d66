// Who may use system shared memory on sonic-server, against the real binary: an object must be
// owned by an allowed uid (the server's own by default; --shared-memory-owner-uid), or, for a
// client on the Unix-domain socket (--grpc-unix-socket), by the client's own uid (SO_PEERCRED);
// keys may be held to a prefix (--shared-memory-key-prefix); system shared memory may be kept to
// the socket's peers or turned off (--system-shared-memory); a client sees and unregisters only
// the regions it registered, and its requests reach only those (clients are told apart by host,
// and by uid on the socket).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;
using Stub = inference::GRPCInferenceService::Stub;

constexpr size_t kObjectBytes = 4096;
// A user other than the test's, for objects the test gives away (as root) or for the allowed
// list.
const uint32_t kOtherUid = geteuid() == 65534 ? 65533 : 65534;

// A POSIX shm object created (and unlinked at the end) by the test, as a client would, holding
// 4 floats 1, 2, 3, 4.
class ShmObject {
 public:
  explicit ShmObject(const std::string& prefix = "/sonic_shm_access_test_")
      : key_(absl::StrCat(prefix, getpid(), "_", counter_++)) {
    int fd = shm_open(key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(ftruncate(fd, kObjectBytes), 0);
    void* data = mmap(nullptr, kObjectBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const float values[4] = {1, 2, 3, 4};
    if (data != MAP_FAILED) {
      std::memcpy(data, values, sizeof(values));
      munmap(data, kObjectBytes);
    }
    close(fd);
  }
  ~ShmObject() { shm_unlink(key_.c_str()); }
  const std::string& key() const { return key_; }
  // Gives the object to `uid`: needs root.
  bool GiveTo(uint32_t uid) const {
    int fd = shm_open(key_.c_str(), O_RDWR, 0);
    if (fd < 0) return false;
    const bool given = fchown(fd, uid, static_cast<gid_t>(-1)) == 0;
    close(fd);
    return given;
  }

 private:
  static inline std::atomic<int> counter_{0};
  std::string key_;
};

grpc::Status Register(Stub& stub, const std::string& name, const std::string& key) {
  inference::SystemSharedMemoryRegisterRequest request;
  request.set_name(name);
  request.set_key(key);
  request.set_byte_size(kObjectBytes);
  inference::SystemSharedMemoryRegisterResponse response;
  return stub.SystemSharedMemoryRegister(NewContext().get(), request, &response);
}

grpc::Status Unregister(Stub& stub, const std::string& name) {
  inference::SystemSharedMemoryUnregisterRequest request;
  request.set_name(name);
  inference::SystemSharedMemoryUnregisterResponse response;
  return stub.SystemSharedMemoryUnregister(NewContext().get(), request, &response);
}

// The names of the system regions `stub`'s client sees.
std::vector<std::string> RegionNames(Stub& stub) {
  inference::SystemSharedMemoryStatusRequest request;
  inference::SystemSharedMemoryStatusResponse response;
  std::vector<std::string> names;
  grpc::Status status = stub.SystemSharedMemoryStatus(NewContext().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  for (const auto& [name, region] : response.regions()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

// identity_fp32 on the 4 floats of region `name`: what the server read from it.
absl::StatusOr<std::vector<float>> InferFromRegion(Stub& stub, const std::string& name) {
  inference::ModelInferRequest request =
      Fp32Request("identity_fp32", "INPUT0", {1, 4}, {0, 0, 0, 0});
  request.clear_raw_input_contents();
  auto& parameters = *request.mutable_inputs(0)->mutable_parameters();
  parameters["shared_memory_region"].set_string_param(name);
  parameters["shared_memory_byte_size"].set_int64_param(16);
  inference::ModelInferResponse response;
  grpc::Status status = Infer(stub, request, &response);
  if (!status.ok())
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const std::string* raw = RawOutput(response, "OUTPUT0");
  if (raw == nullptr) return absl::InternalError("no OUTPUT0");
  return FromRaw<float>(*raw);
}

// A server with a Unix-domain socket, and stubs over TCP and over the socket. The socket lives in
// a directory of its own, removed with it even where the server is killed.
struct SocketServer {
  std::unique_ptr<TempDirectory> socket_dir;
  TestServer server;
  std::unique_ptr<Stub> tcp;
  std::unique_ptr<Stub> unix_socket;
};

absl::StatusOr<SocketServer> StartSocketServer(std::vector<std::string> args) {
  SocketServer started;
  absl::StatusOr<std::unique_ptr<TempDirectory>> socket_dir = TempDirectory::Create("sonic-uds");
  if (!socket_dir.ok()) return socket_dir.status();
  started.socket_dir = *std::move(socket_dir);
  const std::string socket = (started.socket_dir->path() / "grpc.sock").string();
  args.insert(args.end(), {"--model-control-mode=explicit", "--load-model=identity_fp32",
                           "--grpc-unix-socket=" + socket});
  absl::StatusOr<TestServer> server = StartTestServer(args);
  if (!server.ok()) return server.status();
  started.server = *std::move(server);
  started.tcp = NewStub(started.server.server->address());
  started.unix_socket = NewStub("unix:" + socket);
  return started;
}

TEST(ShmAccessTest, ObjectsOfOtherUsersAreRefusedUnlessAllowed) {
  absl::StatusOr<SocketServer> server = StartSocketServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  ShmObject mine;
  EXPECT_TRUE(Register(*server->tcp, "mine", mine.key()).ok());
  EXPECT_EQ(InferFromRegion(*server->tcp, "mine").value_or(std::vector<float>{}),
            (std::vector<float>{1, 2, 3, 4}));
  if (geteuid() != 0) GTEST_SKIP() << "giving an object to another user needs root";
  // The server runs as root, as the test: a root server could open anyone's object.
  ShmObject theirs;
  ASSERT_TRUE(theirs.GiveTo(kOtherUid));
  for (Stub* stub : {server->tcp.get(), server->unix_socket.get()}) {
    grpc::Status refused = Register(*stub, "theirs", theirs.key());
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
    EXPECT_THAT(refused.error_message(), HasSubstr("belongs to another user"));
    EXPECT_EQ(InferFromRegion(*stub, "theirs").status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ShmAccessTest, AllowedOwnersPrefixAndTheSocketPeersOwnObjects) {
  absl::StatusOr<SocketServer> server =
      StartSocketServer({absl::StrCat("--shared-memory-owner-uid=", kOtherUid),
                         "--shared-memory-key-prefix=/sonic_shm_access_"});
  ASSERT_TRUE(server.ok()) << server.status();
  ShmObject mine;
  // Over TCP only kOtherUid's objects are allowed; on the socket, the peer's own are.
  grpc::Status tcp = Register(*server->tcp, "tcp", mine.key());
  EXPECT_EQ(tcp.error_code(), grpc::StatusCode::PERMISSION_DENIED) << tcp.error_message();
  EXPECT_THAT(tcp.error_message(), HasSubstr("--shared-memory-owner-uid"));
  grpc::Status peer = Register(*server->unix_socket, "peer", mine.key());
  EXPECT_TRUE(peer.ok()) << peer.error_message();
  EXPECT_EQ(InferFromRegion(*server->unix_socket, "peer").value_or(std::vector<float>{}),
            (std::vector<float>{1, 2, 3, 4}));

  ShmObject outside_prefix("/sonic_other_prefix_");
  grpc::Status prefix = Register(*server->unix_socket, "prefix", outside_prefix.key());
  EXPECT_EQ(prefix.error_code(), grpc::StatusCode::PERMISSION_DENIED) << prefix.error_message();
  EXPECT_THAT(prefix.error_message(), HasSubstr("--shared-memory-key-prefix"));

  if (geteuid() != 0) return;
  ShmObject given;
  ASSERT_TRUE(given.GiveTo(kOtherUid));
  EXPECT_TRUE(Register(*server->tcp, "allowed", given.key()).ok());
  grpc::Status not_the_peers = Register(*server->unix_socket, "not_the_peers", given.key());
  EXPECT_EQ(not_the_peers.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << not_the_peers.error_message();
}

TEST(ShmAccessTest, AClientSeesAndUnregistersOnlyItsOwnRegions) {
  absl::StatusOr<SocketServer> server = StartSocketServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  ShmObject object;
  ASSERT_TRUE(Register(*server->tcp, "tcp_a", object.key()).ok());
  ASSERT_TRUE(Register(*server->tcp, "tcp_b", object.key()).ok());
  ASSERT_TRUE(Register(*server->unix_socket, "socket_a", object.key()).ok());
  // Requests reach only their client's regions.
  EXPECT_TRUE(InferFromRegion(*server->unix_socket, "socket_a").ok());
  absl::StatusOr<std::vector<float>> foreign = InferFromRegion(*server->tcp, "socket_a");
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kInvalidArgument) << foreign.status();
  EXPECT_THAT(foreign.status().message(), HasSubstr("has not registered it"));

  EXPECT_EQ(RegionNames(*server->tcp), (std::vector<std::string>{"tcp_a", "tcp_b"}));
  EXPECT_EQ(RegionNames(*server->unix_socket), (std::vector<std::string>{"socket_a"}));
  grpc::Status theirs = Unregister(*server->unix_socket, "tcp_a");
  EXPECT_EQ(theirs.error_code(), grpc::StatusCode::PERMISSION_DENIED) << theirs.error_message();
  // An unregister without a name removes only the caller's regions.
  ASSERT_TRUE(Unregister(*server->unix_socket, "").ok());
  EXPECT_TRUE(RegionNames(*server->unix_socket).empty());
  EXPECT_EQ(RegionNames(*server->tcp), (std::vector<std::string>{"tcp_a", "tcp_b"}));
  // Another TCP connection from the same host is the same client.
  std::unique_ptr<Stub> second = NewStub(server->server.server->address());
  ASSERT_TRUE(Unregister(*second, "").ok());
  EXPECT_TRUE(RegionNames(*server->tcp).empty());
}

TEST(ShmAccessTest, SystemSharedMemoryCanBeKeptToTheSocketOrTurnedOff) {
  ShmObject object;
  {
    absl::StatusOr<SocketServer> server = StartSocketServer({"--system-shared-memory=unix-socket"});
    ASSERT_TRUE(server.ok()) << server.status();
    grpc::Status tcp = Register(*server->tcp, "tcp", object.key());
    EXPECT_EQ(tcp.error_code(), grpc::StatusCode::PERMISSION_DENIED) << tcp.error_message();
    EXPECT_THAT(tcp.error_message(), HasSubstr("--system-shared-memory"));
    EXPECT_TRUE(Register(*server->unix_socket, "peer", object.key()).ok());
  }
  absl::StatusOr<SocketServer> off = StartSocketServer({"--system-shared-memory=off"});
  ASSERT_TRUE(off.ok()) << off.status();
  for (Stub* stub : {off->tcp.get(), off->unix_socket.get()}) {
    grpc::Status refused = Register(*stub, "r", object.key());
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  }
}

TEST(ShmAccessTest, ASocketOnlySettingWithoutASocketOrAnUnknownSettingIsRefused) {
  absl::StatusOr<TestServer> no_socket = StartTestServer({"--system-shared-memory=unix-socket"});
  ASSERT_FALSE(no_socket.ok());
  EXPECT_THAT(std::string(no_socket.status().message()), HasSubstr("needs --grpc-unix-socket"));
  absl::StatusOr<TestServer> unknown = StartTestServer({"--system-shared-memory=maybe"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("--system-shared-memory"));
}

}  // namespace
}  // namespace sonic::testing
