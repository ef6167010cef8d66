// What a hostile or unlucky client or repository can do to a running sonic-server, and that the
// server answers each with an error and keeps serving: config.pbtxt that is a directory or a
// FIFO (at startup, at a poll, on an explicit load), a NUL byte in a model name, instance counts
// beyond the bounds or beyond what the system can start, configs no model can serve, floods of
// load requests, a shared-memory object shrunk after registration, too many regions, and names
// of any length echoed in errors, and a request that is not a protobuf message.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "sanitized_build.h"

namespace sonic::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// An identity model's config.pbtxt: INPUT0 -> OUTPUT0, FP32 dims [-1], batching up to 8.
std::string EchoConfig(const std::string& name, const std::string& extra = "") {
  return absl::StrCat("name: \"", name,
                      "\"\nbackend: \"identity\"\nmax_batch_size: 8\n"
                      "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n"
                      "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n",
                      extra);
}

absl::Status MakeDirectories(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir.string()));
  return absl::OkStatus();
}

absl::Status WriteModel(const std::filesystem::path& repository, const std::string& name,
                        const std::string& config) {
  if (absl::Status made = MakeDirectories(repository / name / "1"); !made.ok()) return made;
  return WriteFileAtomically(repository / name / "config.pbtxt", config);
}

// Models whose config.pbtxt is a directory or a FIFO (nobody ever writes to it).
absl::Status WriteUnreadableConfigs(const std::filesystem::path& repository,
                                    const std::string& prefix) {
  if (absl::Status made = MakeDirectories(repository / (prefix + "dir") / "config.pbtxt");
      !made.ok()) {
    return made;
  }
  if (absl::Status made = MakeDirectories(repository / (prefix + "dir") / "1"); !made.ok()) {
    return made;
  }
  if (absl::Status made = MakeDirectories(repository / (prefix + "fifo") / "1"); !made.ok()) {
    return made;
  }
  const std::filesystem::path fifo = repository / (prefix + "fifo") / "config.pbtxt";
  if (mkfifo(fifo.c_str(), 0600) != 0) {
    return absl::InternalError(absl::StrCat("mkfifo ", fifo.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

grpc::Status Load(inference::GRPCInferenceService::Stub& stub, const std::string& name,
                  const std::string& config_json = "") {
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(name);
  if (!config_json.empty()) (*request.mutable_parameters())["config"].set_string_param(config_json);
  inference::RepositoryModelLoadResponse response;
  return stub.RepositoryModelLoad(NewContext().get(), request, &response);
}

bool IsLive(inference::GRPCInferenceService::Stub& stub) {
  inference::ServerLiveResponse response;
  return stub.ServerLive(NewContext().get(), {}, &response).ok() && response.live();
}

// The server's threads now (/proc/PID/task).
int ThreadCount(pid_t pid) {
  int count = 0;
  std::error_code error;
  for (std::filesystem::directory_iterator it(absl::StrCat("/proc/", pid, "/task"), error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

// The reason RepositoryIndex gives for model `name` (its model-level row, else its first row).
std::string IndexReason(inference::GRPCInferenceService::Stub& stub, const std::string& name) {
  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(stub);
  if (!index.ok()) return "no index: " + std::string(index.status().message());
  for (const auto& model : index->models()) {
    if (model.name() == name && !model.reason().empty())
      return model.state() + ": " + model.reason();
  }
  return "";
}

// A POSIX shm object created (and unlinked at the end) by the test, as a client would.
class ShmObject {
 public:
  explicit ShmObject(size_t size)
      : key_(absl::StrCat("/sonic_hostile_test_", getpid(), "_", counter_++)) {
    int fd = shm_open(key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    close(fd);
  }
  ~ShmObject() { shm_unlink(key_.c_str()); }
  const std::string& key() const { return key_; }
  void Resize(size_t size) {
    int fd = shm_open(key_.c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    close(fd);
  }

 private:
  static inline int counter_ = 0;
  std::string key_;
};

grpc::Status RegisterRegion(inference::GRPCInferenceService::Stub& stub, const std::string& name,
                            const std::string& key, uint64_t byte_size) {
  inference::SystemSharedMemoryRegisterRequest request;
  request.set_name(name);
  request.set_key(key);
  request.set_byte_size(byte_size);
  inference::SystemSharedMemoryRegisterResponse response;
  return stub.SystemSharedMemoryRegister(NewContext().get(), request, &response);
}

void UnregisterAllRegions(inference::GRPCInferenceService::Stub& stub) {
  inference::SystemSharedMemoryUnregisterRequest request;
  inference::SystemSharedMemoryUnregisterResponse response;
  EXPECT_TRUE(stub.SystemSharedMemoryUnregister(NewContext().get(), request, &response).ok());
}

// ------------------------------------------------------------------ explicit mode, one server

constexpr int kMaxInstancesPerModel = 8;
constexpr int kMaxRegions = 4;
constexpr int kMaxRegionBytes = 1 << 20;

class HostileInputTest : public SharedServerTest<HostileInputTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer(
        {"--model-control-mode=explicit", "--load-model=echo",
         absl::StrCat("--max-instances-per-model=", kMaxInstancesPerModel), "--max-instances=12",
         absl::StrCat("--max-shared-memory-regions=", kMaxRegions),
         absl::StrCat("--max-shared-memory-bytes=", kMaxRegionBytes)},
        [](const std::filesystem::path& repository) -> absl::Status {
          if (absl::Status s = WriteModel(repository, "echo", EchoConfig("echo")); !s.ok()) {
            return s;
          }
          if (absl::Status s = WriteUnreadableConfigs(repository, "config_"); !s.ok()) return s;
          for (const auto& [name, extra] : std::vector<std::pair<std::string, std::string>>{
                   {"huge_count", "instance_group [ { kind: KIND_CPU count: 2147483647 } ]"},
                   {"eight", "instance_group [ { kind: KIND_CPU count: 8 } ]"},
                   {"spinning_delay",
                    "dynamic_batching { max_queue_delay_microseconds: 18446744073709551615 }"},
                   {"endless_delay",
                    "dynamic_batching { max_queue_delay_microseconds: 1000000000000000 }"}}) {
            if (absl::Status s = WriteModel(repository, name, EchoConfig(name, extra)); !s.ok()) {
              return s;
            }
          }
          return WriteModel(repository, "huge_dims",
                            absl::StrCat("name: \"huge_dims\"\nbackend: \"identity\"\n"
                                         "max_batch_size: 0\ninput [ { name: \"INPUT0\" "
                                         "data_type: TYPE_FP32 dims: [ 9223372036854775807, 2 ] "
                                         "} ]\noutput [ { name: \"OUTPUT0\" data_type: "
                                         "TYPE_FP32 dims: [ 9223372036854775807, 2 ] } ]\n"));
        },
        /*write_test_models=*/false);
  }
};

TEST_F(HostileInputTest, UnreadableConfigsAndNulNamesAreErrorsOnExplicitLoad) {
  grpc::Status directory = Load(*stub_, "config_dir");
  EXPECT_EQ(directory.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << directory.error_message();
  EXPECT_THAT(directory.error_message(), HasSubstr("not a regular file"));
  grpc::Status fifo = Load(*stub_, "config_fifo");
  EXPECT_EQ(fifo.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << fifo.error_message();
  grpc::Status nul = Load(*stub_, std::string("echo\0evil", 9));
  EXPECT_EQ(nul.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << nul.error_message();
  EXPECT_TRUE(IsLive(*stub_));
  EXPECT_TRUE(IsModelReady(*stub_, "echo"));
}

TEST_F(HostileInputTest, ExplicitLoadsLeaveNoThreadBehind) {
  const pid_t pid = server_->server->pid();
  ASSERT_FALSE(Load(*stub_, "config_fifo").ok());  // the load executor's first thread
  const int before = ThreadCount(pid);
  for (int i = 0; i < 30; ++i) {
    grpc::Status status = Load(*stub_, i % 2 ? "config_fifo" : "config_dir");
    ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  }
  // The executor may have started its other threads; never one per load.
  EXPECT_LE(ThreadCount(pid), before + 4);
}

TEST_F(HostileInputTest, AFloodOfLoadsIsAnsweredWithoutAThreadEach) {
  const pid_t pid = server_->server->pid();
  const int before = ThreadCount(pid);
  struct Call {
    grpc::ClientContext context;
    inference::RepositoryModelLoadRequest request;
    inference::RepositoryModelLoadResponse response;
    std::promise<grpc::Status> done;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::vector<std::future<grpc::Status>> results;
  for (int i = 0; i < 400; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    call->request.set_model_name("config_fifo");
    results.push_back(call->done.get_future());
    Call* raw = call.get();
    stub_->async()->RepositoryModelLoad(
        &raw->context, &raw->request, &raw->response,
        [raw](grpc::Status status) { raw->done.set_value(status); });
    calls.push_back(std::move(call));
  }
  int peak = 0;
  for (auto& result : results) {
    peak = std::max(peak, ThreadCount(pid));
    grpc::Status status = result.get();
    EXPECT_THAT(status.error_code(),
                AnyOf(grpc::StatusCode::FAILED_PRECONDITION, grpc::StatusCode::RESOURCE_EXHAUSTED))
        << status.error_message();
  }
  EXPECT_LT(peak, before + 100) << "a thread per load would be hundreds";
  EXPECT_TRUE(IsLive(*stub_));
}

TEST_F(HostileInputTest, InstanceCountsBeyondTheBoundsAreRefusedAtLoad) {
  grpc::Status huge = Load(*stub_, "huge_count");
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << huge.error_message();
  EXPECT_THAT(huge.error_message(), HasSubstr("--max-instances-per-model"));
  EXPECT_THAT(IndexReason(*stub_, "huge_count"), HasSubstr("UNAVAILABLE"));

  // The same through a config override of a model that is fine on disk.
  grpc::Status overridden = Load(*stub_, "eight",
                                 R"({"backend":"identity","max_batch_size":8,
               "input":[{"name":"INPUT0","data_type":"TYPE_FP32","dims":[-1]}],
               "output":[{"name":"OUTPUT0","data_type":"TYPE_FP32","dims":[-1]}],
               "instance_group":[{"kind":"KIND_CPU","count":2147483647}]})");
  EXPECT_EQ(overridden.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << overridden.error_message();

  // echo (1 instance) + eight (8) fit in --max-instances=12; a second eight would not.
  ASSERT_TRUE(Load(*stub_, "eight").ok());
  grpc::Status over_server = Load(*stub_, "huge_count",
                                  R"({"backend":"identity","max_batch_size":8,
               "input":[{"name":"INPUT0","data_type":"TYPE_FP32","dims":[-1]}],
               "output":[{"name":"OUTPUT0","data_type":"TYPE_FP32","dims":[-1]}],
               "instance_group":[{"kind":"KIND_CPU","count":8}]})");
  EXPECT_EQ(over_server.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << over_server.error_message();
  EXPECT_THAT(over_server.error_message(), HasSubstr("--max-instances"));
  EXPECT_TRUE(IsLive(*stub_));
}

TEST_F(HostileInputTest, ConfigsNoModelCanServeAreUnavailableWithTheReason) {
  for (const auto& [name, field] : std::vector<std::pair<std::string, std::string>>{
           {"spinning_delay", "max_queue_delay_microseconds"},
           {"endless_delay", "max_queue_delay_microseconds"},
           {"huge_dims", "dims"}}) {
    SCOPED_TRACE(name);
    grpc::Status status = Load(*stub_, name);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(field));
    EXPECT_THAT(IndexReason(*stub_, name), HasSubstr("UNAVAILABLE"));
    EXPECT_FALSE(IsModelReady(*stub_, name));
  }
}

TEST_F(HostileInputTest, AShrunkSharedMemoryObjectIsAnErrorAndTheServerLives) {
  ShmObject object(2 * 4096);
  ASSERT_TRUE(RegisterRegion(*stub_, "shrinking", object.key(), 2 * 4096).ok());
  object.Resize(0);
  for (const bool output : {false, true}) {
    SCOPED_TRACE(output ? "output" : "input");
    inference::ModelInferRequest request =
        Fp32Request("echo", "INPUT0", {1, 1024}, std::vector<float>(1024, 1.0f));
    auto& parameters = output ? (*request.add_outputs()->mutable_parameters())
                              : (*request.mutable_inputs(0)->mutable_parameters());
    if (output) request.mutable_outputs(0)->set_name("OUTPUT0");
    if (!output) request.clear_raw_input_contents();
    parameters["shared_memory_region"].set_string_param("shrinking");
    parameters["shared_memory_byte_size"].set_int64_param(4096);
    parameters["shared_memory_offset"].set_int64_param(4096);
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub_, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("region 'shrinking'"));
    EXPECT_THAT(status.error_message(), HasSubstr("shrunk"));
  }
  EXPECT_TRUE(IsLive(*stub_));
  UnregisterAllRegions(*stub_);
}

TEST_F(HostileInputTest, RegionCountAndBytesAreBounded) {
  ShmObject object(kMaxRegionBytes);
  grpc::Status too_big = RegisterRegion(*stub_, "big", object.key(), kMaxRegionBytes);
  EXPECT_TRUE(too_big.ok()) << too_big.error_message();
  grpc::Status past_bytes = RegisterRegion(*stub_, "one_more_byte", object.key(), 1);
  EXPECT_EQ(past_bytes.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(past_bytes.error_message(), HasSubstr("--max-shared-memory-bytes"));
  UnregisterAllRegions(*stub_);

  for (int i = 0; i < kMaxRegions; ++i) {
    ASSERT_TRUE(RegisterRegion(*stub_, absl::StrCat("r", i), object.key(), 16).ok());
  }
  grpc::Status past_count = RegisterRegion(*stub_, "r_last", object.key(), 16);
  EXPECT_EQ(past_count.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(past_count.error_message(), HasSubstr("--max-shared-memory-regions"));
  UnregisterAllRegions(*stub_);
  EXPECT_TRUE(RegisterRegion(*stub_, "again", object.key(), 16).ok());
  UnregisterAllRegions(*stub_);
}

TEST_F(HostileInputTest, LongNamesGiveShortErrorsWithTheRightCode) {
  const std::string long_name(10000, 'm');
  inference::ModelInferResponse response;
  grpc::Status unknown_model =
      Infer(*stub_, Fp32Request(long_name, "INPUT0", {1, 1}, {1.0f}), &response);
  EXPECT_EQ(unknown_model.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(unknown_model.error_message().size(), 1024u);
  EXPECT_THAT(unknown_model.error_message(), HasSubstr("mmm..."));

  grpc::Status unknown_input =
      Infer(*stub_, Fp32Request("echo", long_name, {1, 1}, {1.0f}), &response);
  EXPECT_EQ(unknown_input.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(unknown_input.error_message().size(), 1024u);

  grpc::Status load = Load(*stub_, long_name);
  EXPECT_EQ(load.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(load.error_message().size(), 1024u);

  grpc::Status region = RegisterRegion(*stub_, long_name, "/no_such_key_" + long_name, 16);
  EXPECT_EQ(region.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(region.error_message().size(), 1024u);
}

TEST_F(HostileInputTest, AnUnparsableRequestIsInvalidArgumentSayingSo) {
  auto channel = NewChannel(server_->server->address());
  const char garbage[] = "\x0f\xff\xff\xff not a protobuf message";
  grpc::Slice slice(garbage, sizeof(garbage) - 1);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  const grpc::internal::RpcMethod method("/inference.GRPCInferenceService/ModelInfer",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), method, NewContext().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("ModelInfer"));
  EXPECT_THAT(status.error_message(), HasSubstr("not a valid protobuf message"));
  EXPECT_TRUE(IsLive(*stub_));
}

// ------------------------------------------------------------------ startup and polling

TEST(HostileRepositoryTest, StartupAndPollsSurviveUnreadableConfigs) {
  absl::StatusOr<TestServer> started = StartTestServer(
      {"--model-control-mode=poll", "--repository-poll-secs=1", "--strict-readiness=false"},
      [](const std::filesystem::path& repository) -> absl::Status {
        if (absl::Status s = WriteModel(repository, "echo", EchoConfig("echo")); !s.ok()) return s;
        return WriteUnreadableConfigs(repository, "startup_");
      },
      /*write_test_models=*/false);
  ASSERT_TRUE(started.ok()) << started.status();
  auto stub = NewStub(started->server->address());
  EXPECT_TRUE(IsModelReady(*stub, "echo"));
  EXPECT_THAT(IndexReason(*stub, "startup_dir"), HasSubstr("not a regular file"));
  EXPECT_THAT(IndexReason(*stub, "startup_fifo"), HasSubstr("not a regular file"));

  // Broken configs appear after startup; a good model added after them still loads, so no poll
  // blocked on them.
  ASSERT_TRUE(WriteUnreadableConfigs(started->repository(), "polled_").ok());
  ASSERT_TRUE(WaitFor([&] { return !IndexReason(*stub, "polled_fifo").empty(); }));
  ASSERT_TRUE(WriteModel(started->repository(), "late", EchoConfig("late")).ok());
  EXPECT_TRUE(WaitFor([&] { return IsModelReady(*stub, "late"); }));
  EXPECT_THAT(IndexReason(*stub, "polled_dir"), HasSubstr("not a regular file"));

  absl::StatusOr<int> exit_code = started->server->Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST(HostileRepositoryTest, ThreadsTheSystemRefusesMakeTheModelUnavailableNotTheServerDie) {
#if SONIC_SANITIZED
  // A sanitized server reserves terabytes of shadow memory: no address-space limit fits it.
  GTEST_SKIP() << "needs an address-space limit, which a sanitized server cannot run under";
#endif
  // Under an address-space limit a few hundred thread stacks fit; a model with 5000 instances
  // (allowed by the flags) cannot start them all.
  const char* build_dir = std::getenv("SONIC_BUILD_DIR");
  ASSERT_NE(build_dir, nullptr);
  absl::StatusOr<std::unique_ptr<TempDirectory>> dir = TempDirectory::Create("sonic_it");
  ASSERT_TRUE(dir.ok());
  const std::filesystem::path repository = (*dir)->path() / "models";
  ASSERT_TRUE(WriteModel(repository, "echo", EchoConfig("echo")).ok());
  ASSERT_TRUE(
      WriteModel(repository, "thousands",
                 EchoConfig("thousands", "instance_group [ { kind: KIND_CPU count: 5000 } ]"))
          .ok());
  ServerProcess::Options options;
  options.binary = "/usr/bin/prlimit";
  options.args = {"--as=4294967296",
                  "--",
                  absl::StrCat(build_dir, "/bin/sonic-server"),
                  "--model-repository",
                  repository.string(),
                  "--model-control-mode=explicit",
                  "--load-model=echo",
                  "--max-instances-per-model=100000",
                  "--max-instances=100000"};
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub((*server)->address());

  grpc::Status thousands = Load(*stub, "thousands");
  EXPECT_EQ(thousands.error_code(), grpc::StatusCode::UNAVAILABLE) << thousands.error_message();
  EXPECT_THAT(thousands.error_message(), HasSubstr("cannot start the thread"));
  EXPECT_THAT(IndexReason(*stub, "thousands"), HasSubstr("cannot start the thread"));
  EXPECT_TRUE(IsLive(*stub));
  EXPECT_TRUE(IsModelReady(*stub, "echo"));
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(*stub, Fp32Request("echo", "INPUT0", {1, 2}, {1.0f, 2.0f}), &response).ok());
}

}  // namespace
}  // namespace sonic::testing
