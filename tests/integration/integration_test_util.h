// Shared pieces of the integration tests: a sonic-server on a test model repository, gRPC
// clients for it, and request builders. Not thread-safe unless said otherwise.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server_process.h"

namespace sonic::testing {

// Generous: a loaded 2-core machine can be slow, and no test asserts a duration.
inline constexpr absl::Duration kRpcDeadline = absl::Seconds(30);

// A server and the temporary directory holding its model repository (and anything else a test
// writes there). The server is stopped before the directory is removed.
struct TestServer {
  std::unique_ptr<TempDirectory> dir;
  std::unique_ptr<ServerProcess> server;

  std::filesystem::path repository() const { return dir->path() / "models"; }
};

// Writes the test model repository (test_models.h) into a fresh temporary directory, lets
// `prepare` add to it (may be empty), and starts a server on it with `args` (the repository flag
// is added). Errors carry the server's log.
absl::StatusOr<TestServer> StartTestServer(
    std::vector<std::string> args,
    const std::function<absl::Status(const std::filesystem::path& repository)>& prepare = {},
    bool write_test_models = true);

// A channel with unlimited message sizes (like Triton's clients) and the given credentials.
std::shared_ptr<grpc::Channel> NewChannel(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials(),
    const grpc::ChannelArguments& extra = {});
std::unique_ptr<inference::GRPCInferenceService::Stub> NewStub(const std::string& address);

// A client context with a deadline.
std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration deadline = kRpcDeadline);

// Writes `contents` to `file`, creating parent directories. Atomic for readers of `file`
// (written beside it, then renamed), so a polling server never sees half a file.
absl::Status WriteFileAtomically(const std::filesystem::path& file, std::string_view contents);

// Polls `condition` every 100 ms until it holds or `deadline` passes; whether it held. For
// waiting on asynchronous server behaviour (polling, draining), never for measuring it.
bool WaitFor(const std::function<bool()>& condition, absl::Duration deadline = absl::Seconds(15));

// Raw little-endian bytes of trivially copyable values, and back.
template <typename T>
std::string ToRaw(const std::vector<T>& values) {
  std::string raw(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  return raw;
}
template <typename T>
std::vector<T> FromRaw(std::string_view raw) {
  std::vector<T> values(raw.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), raw.data(), values.size() * sizeof(T));
  return values;
}

// A request with one input sent in raw_input_contents.
inference::ModelInferRequest RawRequest(const std::string& model, const std::string& input,
                                        const std::string& datatype,
                                        const std::vector<int64_t>& shape, std::string raw);
inference::ModelInferRequest Fp32Request(const std::string& model, const std::string& input,
                                         const std::vector<int64_t>& shape,
                                         const std::vector<float>& values);

// RPC helpers returning the gRPC status and filling `response`.
grpc::Status Infer(inference::GRPCInferenceService::Stub& stub,
                   const inference::ModelInferRequest& request,
                   inference::ModelInferResponse* response);
bool IsModelReady(inference::GRPCInferenceService::Stub& stub, const std::string& name,
                  const std::string& version = "");
absl::StatusOr<inference::ModelConfig> GetModelConfig(inference::GRPCInferenceService::Stub& stub,
                                                      const std::string& name);
absl::StatusOr<inference::RepositoryIndexResponse> GetIndex(
    inference::GRPCInferenceService::Stub& stub, bool ready_only = false);

// The contents of the output named `name`, or nullptr; requires raw_output_contents aligned.
const std::string* RawOutput(const inference::ModelInferResponse& response, std::string_view name);

// A test suite whose tests share one server, started once before the first test: `Suite` (the
// derived fixture) provides `static absl::StatusOr<TestServer> StartServer()`. Every test gets a
// stub; a server that did not start fails each test with the reason (and the server's log).
template <typename Suite>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> started = Suite::StartServer();
    if (started.ok()) {
      server_ = std::make_unique<TestServer>(*std::move(started));
    } else {
      setup_status_ = started.status();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << setup_status_;
    stub_ = NewStub(server_->server->address());
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_status_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

}  // namespace sonic::testing
