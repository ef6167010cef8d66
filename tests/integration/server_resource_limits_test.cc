// The bounds that keep a hostile or unlucky client or repository from growing sonic-server's
// memory without limit, against the real binary: a huge config.pbtxt, gzip bombs (gRPC and
// HTTP), a stream
// whose client never reads, a request over its model's element limit, and an allocation that
// fails inside a batch (an error response, not a dead server).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "sanitized_build.h"
#include "server/frontend/http_compression.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

// An identity model: INPUT0 -> OUTPUT0, FP32 dims [-1], batching up to 8.
std::string EchoConfig(const std::string& name, const std::string& extra = "") {
  return absl::StrCat("name: \"", name,
                      "\"\nbackend: \"identity\"\nmax_batch_size: 8\n"
                      "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n"
                      "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n",
                      extra);
}

absl::Status WriteModel(const std::filesystem::path& repository, const std::string& name,
                        const std::string& config) {
  std::error_code error;
  std::filesystem::create_directories(repository / name / "1", error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", name));
  return WriteFileAtomically(repository / name / "config.pbtxt", config);
}

grpc::Status Load(inference::GRPCInferenceService::Stub& stub, const std::string& name) {
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(name);
  inference::RepositoryModelLoadResponse response;
  return stub.RepositoryModelLoad(NewContext().get(), request, &response);
}

bool IsLive(inference::GRPCInferenceService::Stub& stub) {
  inference::ServerLiveResponse response;
  return stub.ServerLive(NewContext().get(), {}, &response).ok() && response.live();
}

uint64_t SuccessCount(inference::GRPCInferenceService::Stub& stub, const std::string& model) {
  inference::ModelStatisticsRequest request;
  request.set_name(model);
  inference::ModelStatisticsResponse response;
  if (!stub.ModelStatistics(NewContext().get(), request, &response).ok()) return 0;
  uint64_t count = 0;
  for (const auto& stats : response.model_stats()) {
    count += stats.inference_stats().success().count();
  }
  return count;
}

constexpr int kMaxRequestBytes = 1 << 20;
constexpr int kMaxStreamResponses = 4;

class ResourceLimitsTest : public SharedServerTest<ResourceLimitsTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer(
        {"--model-control-mode=explicit", "--load-model=echo", "--load-model=small",
         "--max-config-bytes=65536", "--max-input-elements=250000",
         absl::StrCat("--max-request-bytes=", kMaxRequestBytes),
         absl::StrCat("--max-stream-responses=", kMaxStreamResponses)},
        [](const std::filesystem::path& repository) -> absl::Status {
          if (absl::Status s = WriteModel(repository, "echo", EchoConfig("echo")); !s.ok()) {
            return s;
          }
          if (absl::Status s =
                  WriteModel(repository, "small",
                             EchoConfig("small",
                                        "parameters { key: \"max_input_elements\" value { "
                                        "string_value: \"1000\" } }\n"));
              !s.ok()) {
            return s;
          }
          // A config.pbtxt of 8 GiB (sparse: no disk), and one that is /dev/zero.
          if (absl::Status s = WriteModel(repository, "huge_config", ""); !s.ok()) return s;
          if (truncate((repository / "huge_config" / "config.pbtxt").c_str(), off_t{8} << 30) !=
              0) {
            return absl::InternalError(absl::StrCat("truncate: ", std::strerror(errno)));
          }
          if (absl::Status s = WriteModel(repository, "zero_config", ""); !s.ok()) return s;
          std::filesystem::remove(repository / "zero_config" / "config.pbtxt");
          std::error_code error;
          std::filesystem::create_symlink("/dev/zero", repository / "zero_config" / "config.pbtxt",
                                          error);
          if (error) return absl::InternalError("cannot link /dev/zero");
          return absl::OkStatus();
        },
        /*write_test_models=*/false);
  }
};

TEST_F(ResourceLimitsTest, ConfigFilesOverTheLimitAreRefusedUnread) {
  grpc::Status huge = Load(*stub_, "huge_config");
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << huge.error_message();
  EXPECT_THAT(huge.error_message(), HasSubstr("--max-config-bytes"));
  grpc::Status zero = Load(*stub_, "zero_config");
  EXPECT_EQ(zero.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << zero.error_message();
  EXPECT_THAT(zero.error_message(), HasSubstr("not a regular file"));
  EXPECT_TRUE(IsLive(*stub_));
}

TEST_F(ResourceLimitsTest, ACompressedRequestIsBoundedAfterDecompression) {
  // 8 MiB of zeros compress to a few kilobytes: gRPC's receive limit counts the inflated size.
  grpc::ChannelArguments gzip;
  gzip.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  auto stub = inference::GRPCInferenceService::NewStub(
      NewChannel(server_->server->address(), grpc::InsecureChannelCredentials(), gzip));
  inference::ModelInferResponse response;
  grpc::Status bomb = Infer(
      *stub, Fp32Request("echo", "INPUT0", {1, 2 << 20}, std::vector<float>(2 << 20)), &response);
  EXPECT_EQ(bomb.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << bomb.error_message();
  grpc::Status fits = Infer(
      *stub, Fp32Request("echo", "INPUT0", {1, 1 << 16}, std::vector<float>(1 << 16)), &response);
  EXPECT_TRUE(fits.ok()) << fits.error_message();
  EXPECT_TRUE(IsLive(*stub_));
}

TEST_F(ResourceLimitsTest, ACompressedHttpBodyIsBoundedAfterDecompression) {
  httplib::Client client("127.0.0.1", server_->server->http_port());
  auto post = [&](const std::string& json) {
    absl::StatusOr<std::string> gzipped = server::Compress(json, server::ContentCoding::kGzip);
    EXPECT_TRUE(gzipped.ok());
    httplib::Headers headers = {{"Content-Encoding", "gzip"}};
    return client.Post("/v2/models/echo/infer", headers, *gzipped, "application/json");
  };
  // 8 MiB of spaces inside a JSON request compress to a few kilobytes.
  auto bomb = post("{" + std::string(8 << 20, ' ') + "}");
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->status, 413) << bomb->body;
  EXPECT_THAT(bomb->body, HasSubstr("--max-request-bytes"));
  auto fits =
      post(R"({"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,2],"data":[1,2]}]})");
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200) << fits->body;
}

TEST_F(ResourceLimitsTest, RequestsOverTheModelsElementLimitAreInvalid) {
  inference::ModelInferResponse response;
  EXPECT_TRUE(
      Infer(*stub_, Fp32Request("small", "INPUT0", {1, 1000}, std::vector<float>(1000)), &response)
          .ok());
  grpc::Status over =
      Infer(*stub_, Fp32Request("small", "INPUT0", {1, 1001}, std::vector<float>(1001)), &response);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << over.error_message();
  EXPECT_THAT(over.error_message(), HasSubstr("max_input_elements"));
  // A model without its own limit has the server's (--max-input-elements=250000).
  grpc::Status server_limit = Infer(
      *stub_, Fp32Request("echo", "INPUT0", {1, 250001}, std::vector<float>(250001)), &response);
  EXPECT_EQ(server_limit.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(server_limit.error_message(), HasSubstr("--max-input-elements"));
}

TEST_F(ResourceLimitsTest, AStreamWhoseClientNeverReadsStopsReadingItsRequests) {
  // 64 requests of 920 kB each, answered with as much; the client never reads. Within its
  // deadline, the server runs only the few it owes responses for (plus those that fit the
  // transport's buffers, a few megabytes), not all of them.
  constexpr int kRequests = 64;
  constexpr int kFloats = 230000;
  const uint64_t before = SuccessCount(*stub_, "echo");
  auto context = NewContext(absl::Seconds(4));
  auto stream = stub_->ModelStreamInfer(context.get());
  const inference::ModelInferRequest request =
      Fp32Request("echo", "INPUT0", {1, kFloats}, std::vector<float>(kFloats, 1.0f));
  int written = 0;
  while (written < kRequests && stream->Write(request)) ++written;
  stream->Finish();  // the deadline ends the stream
  const uint64_t ran = SuccessCount(*stub_, "echo") - before;
  EXPECT_LT(ran, kRequests / 2) << "written " << written;
  EXPECT_GE(ran, 1u);
  EXPECT_TRUE(IsLive(*stub_));
}

TEST_F(ResourceLimitsTest, AStreamThatReadsGetsEveryResponse) {
  // More requests than --max-stream-responses, read as they come: all are answered.
  auto context = NewContext();
  auto stream = stub_->ModelStreamInfer(context.get());
  constexpr int kRequests = 4 * kMaxStreamResponses;
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      inference::ModelInferRequest request =
          Fp32Request("echo", "INPUT0", {1, 4}, {1.0f, 2.0f, 3.0f, float(i)});
      request.set_id(std::to_string(i));
      if (!stream->Write(request)) return;
    }
    stream->WritesDone();
  });
  int read = 0;
  inference::ModelStreamInferResponse response;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.error_message(), "");
    EXPECT_EQ(response.infer_response().id(), std::to_string(read));
    ++read;
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(read, kRequests);
}

// ------------------------------------------------------------- shared memory shrunk during use

TEST(SharedMemoryShrinkRaceTest, AnObjectShrunkWhileRequestsUseItNeverKillsTheServer) {
  // Requests read a 16 MiB input from a region and write their output into it while another
  // thread shrinks the object to nothing and grows it back, over and over: some requests hit the
  // window between the server's size check and its access.
  absl::StatusOr<TestServer> server = StartTestServer(
      {"--model-control-mode=explicit", "--load-model=echo", "--max-input-elements=16777216"},
      [](const std::filesystem::path& repository) {
        return WriteModel(repository, "echo", EchoConfig("echo"));
      },
      /*write_test_models=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());
  constexpr int64_t kFloats = 4 << 20;
  constexpr off_t kBytes = 2 * kFloats * sizeof(float);
  const std::string key = absl::StrCat("/sonic_shrink_race_", getpid());
  const int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(ftruncate(fd, kBytes), 0);
  inference::SystemSharedMemoryRegisterRequest region;
  region.set_name("racy");
  region.set_key(key);
  region.set_byte_size(static_cast<uint64_t>(kBytes));
  inference::SystemSharedMemoryRegisterResponse registered;
  ASSERT_TRUE(stub->SystemSharedMemoryRegister(NewContext().get(), region, &registered).ok());

  std::atomic<bool> stop{false};
  std::thread shrinker([&] {
    while (!stop) {
      (void)!ftruncate(fd, 0);
      (void)!ftruncate(fd, kBytes);
    }
  });
  inference::ModelInferRequest request;
  request.set_model_name("echo");
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(kFloats);
  auto& in = *input->mutable_parameters();
  in["shared_memory_region"].set_string_param("racy");
  in["shared_memory_byte_size"].set_int64_param(kFloats * 4);
  auto* output = request.add_outputs();
  output->set_name("OUTPUT0");
  auto& out = *output->mutable_parameters();
  out["shared_memory_region"].set_string_param("racy");
  out["shared_memory_byte_size"].set_int64_param(kFloats * 4);
  out["shared_memory_offset"].set_int64_param(kFloats * 4);
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub, request, &response);
    if (status.ok()) continue;
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message() << "\n"
        << server->server->Log();
    EXPECT_THAT(status.error_message(), HasSubstr("shrunk"));
    ++refused;
  }
  stop = true;
  shrinker.join();
  close(fd);
  shm_unlink(key.c_str());
  EXPECT_GT(refused, 0);
  EXPECT_TRUE(IsLive(*stub));
}

// ------------------------------------------------------------- under an address-space limit

// The server's virtual memory size now (/proc/PID/status VmSize), in bytes.
uint64_t VirtualBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 10) << 10;
  }
  return 0;
}

TEST(ResourceLimitsUnderMemoryLimitTest, AnOutputThatCannotBeAllocatedIsAnErrorResponse) {
#if SONIC_SANITIZED
  GTEST_SKIP() << "needs an address-space limit, which a sanitized server cannot run under";
#endif
  // An identity model copies a 1 GiB input in a shared-memory region to a 1 GiB output: under
  // an address-space limit with room for the region but not for the output, the output's
  // allocation fails inside the batch.
  const char* build_dir = std::getenv("SONIC_BUILD_DIR");
  ASSERT_NE(build_dir, nullptr);
  absl::StatusOr<std::unique_ptr<TempDirectory>> dir = TempDirectory::Create("sonic_it");
  ASSERT_TRUE(dir.ok());
  const std::filesystem::path repository = (*dir)->path() / "models";
  ASSERT_TRUE(WriteModel(repository, "echo", EchoConfig("echo")).ok());
  const std::vector<std::string> server_args = {"--model-repository", repository.string(),
                                                "--max-input-elements=1000000000",
                                                "--max-shared-memory-bytes=4294967296"};

  // The address space the server takes serving one request, without a limit.
  uint64_t baseline = 0;
  {
    ServerProcess::Options options;
    options.args = server_args;
    auto server = ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    auto stub = NewStub((*server)->address());
    inference::ModelInferResponse response;
    ASSERT_TRUE(Infer(*stub, Fp32Request("echo", "INPUT0", {1, 4}, {1, 2, 3, 4}), &response).ok());
    baseline = VirtualBytes((*server)->pid());
    ASSERT_GT(baseline, 0u);
  }

  constexpr uint64_t kRegionBytes = uint64_t{1} << 30;
  const std::string key = absl::StrCat("/sonic_limits_test_", getpid());
  const int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(kRegionBytes)), 0);
  close(fd);

  ServerProcess::Options options;
  options.binary = "/usr/bin/prlimit";
  options.args = {absl::StrCat("--as=", baseline + kRegionBytes + (uint64_t{512} << 20)), "--",
                  absl::StrCat(build_dir, "/bin/sonic-server")};
  options.args.insert(options.args.end(), server_args.begin(), server_args.end());
  auto server = ServerProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub((*server)->address());

  inference::SystemSharedMemoryRegisterRequest region;
  region.set_name("big");
  region.set_key(key);
  region.set_byte_size(kRegionBytes);
  inference::SystemSharedMemoryRegisterResponse registered;
  grpc::Status status = stub->SystemSharedMemoryRegister(NewContext().get(), region, &registered);
  shm_unlink(key.c_str());
  ASSERT_TRUE(status.ok()) << status.error_message();

  inference::ModelInferRequest request;
  request.set_model_name("echo");
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(static_cast<int64_t>(kRegionBytes / 4));
  (*input->mutable_parameters())["shared_memory_region"].set_string_param("big");
  (*input->mutable_parameters())["shared_memory_byte_size"].set_int64_param(
      static_cast<int64_t>(kRegionBytes));
  inference::ModelInferResponse response;
  grpc::Status out_of_memory = Infer(*stub, request, &response);
  EXPECT_EQ(out_of_memory.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << out_of_memory.error_message() << "\n"
      << (*server)->Log();
  EXPECT_THAT(out_of_memory.error_message(), HasSubstr("out of memory"));
  EXPECT_TRUE(IsLive(*stub));
  EXPECT_TRUE(Infer(*stub, Fp32Request("echo", "INPUT0", {1, 2}, {1, 2}), &response).ok());
}

}  // namespace
}  // namespace sonic::testing
