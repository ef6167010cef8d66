// CUDA shared memory between TritonClient and a local sonic-server. Without a visible device (or
// without CUDA) the choice is refused by Create() before anything reaches the server; the rest
// needs a GPU and skips itself otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "inference/grpc_service.grpc.pb.h"

namespace sonic::testing {
namespace {

using client::SharedMemoryMode;
using client::SonicMode;
using client::TritonClient;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Outputs of a fixed size go to the region as well (and are copied back from the device).
constexpr int64_t kElements = 50000;
constexpr char kIdentityFixedConfig[] = R"(name: "identity_fixed"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 50000 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 50000 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
)";

// `entries` rows of kElements distinct values.
std::vector<std::vector<float>> Rows(int entries) {
  std::vector<std::vector<float>> rows(entries, std::vector<float>(kElements));
  for (int e = 0; e < entries; ++e) {
    for (int64_t i = 0; i < kElements; ++i) rows[e][i] = 0.5f * static_cast<float>(e + i);
  }
  return rows;
}

struct CudaRegion {
  uint64_t device_id = 0;
  uint64_t byte_size = 0;
};

class ClientCudaShmTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server =
        StartTestServer({}, [](const std::filesystem::path& repository) {
          std::filesystem::create_directories(repository / "identity_fixed" / "1");
          return WriteFileAtomically(repository / "identity_fixed" / "config.pbtxt",
                                     kIdentityFixedConfig);
        });
    setup_ = server.status();
    if (server.ok()) server_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  // A kCuda client on device 0; skips the test when Create() refuses the device, after checking
  // that the refusal is the documented one.
  static std::unique_ptr<TritonClient> CudaClientOrSkip() {
    TritonClient::Options options = ClientOptions(*server_, "identity_fixed", GetParam());
    options.shared_memory = SharedMemoryMode::kCuda;
    options.cuda_device = 0;
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    if (client.ok()) return *std::move(client);
    EXPECT_EQ(client::GetErrorCategory(client.status()), client::ErrorCategory::kBadInput)
        << client.status();
    EXPECT_THAT(std::string(client.status().message()), ::testing::HasSubstr("device 0"));
    EXPECT_THAT(CudaRegions(), IsEmpty());
    return nullptr;
  }

  // The server's CUDA regions of this process's clients, by name.
  static std::map<std::string, CudaRegion> CudaRegions() {
    auto stub = NewStub(server_->server->address());
    inference::CudaSharedMemoryStatusRequest request;
    inference::CudaSharedMemoryStatusResponse response;
    grpc::Status status = stub->CudaSharedMemoryStatus(NewContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, CudaRegion> regions;
    const std::string prefix = absl::StrCat("sonic_", getpid(), "_");
    for (const auto& [name, region] : response.regions()) {
      if (name.starts_with(prefix)) regions[name] = {region.device_id(), region.byte_size()};
    }
    return regions;
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_;
};

TEST_P(ClientCudaShmTest, TensorsGoThroughOneDeviceRegionThatGrowsAndIsRemovedWithTheClient) {
  std::unique_ptr<TritonClient> client = CudaClientOrSkip();
  if (client == nullptr) GTEST_SKIP() << "no CUDA device 0 for this client";
  ASSERT_TRUE(SendFp32(*client, "INPUT0", Rows(1)).ok());
  absl::Status status = DispatchAndWait(*client);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*ReadFp32(*client, "OUTPUT0"), Rows(1));
  const std::map<std::string, CudaRegion> first = CudaRegions();
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(first.begin()->second.device_id, 0u);
  EXPECT_GE(first.begin()->second.byte_size, 2 * kElements * sizeof(float));
  client->reset();

  ASSERT_TRUE(SendFp32(*client, "INPUT0", Rows(4)).ok());  // larger: a new region replaces it
  status = DispatchAndWait(*client);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*ReadFp32(*client, "OUTPUT0"), Rows(4));
  const std::map<std::string, CudaRegion> grown = CudaRegions();
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_NE(grown.begin()->first, first.begin()->first);
  EXPECT_GE(grown.begin()->second.byte_size, 2 * 4 * kElements * sizeof(float));

  client.reset();
  EXPECT_THAT(CudaRegions(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientCudaShmTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
