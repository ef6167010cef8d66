// System shared memory between TritonClient and a local sonic-server: results identical with and
// without it for every datatype, fixed-size outputs read in place from the client's region, one
// region per client that grows and is reused across events, and no /dev/shm leftovers after the
// client is gone, also when its job failed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "inference/grpc_service.grpc.pb.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

using client::SharedMemoryMode;
using client::SonicMode;
using client::TritonClient;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

// Names in /dev/shm of this process's client regions.
std::set<std::string> OwnShmEntries() {
  const std::string prefix = absl::StrCat("sonic_", getpid(), "_");
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix)) names.insert(name);
  }
  return names;
}

// Whether `address` lies in a mapping of a client region ("/dev/shm/sonic_..." in
// /proc/self/maps, unlinked or not).
bool InClientRegion(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto target = reinterpret_cast<uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    if (line.find("/dev/shm/sonic_") == std::string::npos) continue;
    std::istringstream fields(line);
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    fields >> std::hex >> begin >> dash >> end;
    if (target >= begin && target < end) return true;
  }
  return false;
}

class ClientShmTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) server_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  static std::unique_ptr<TritonClient> NewClient(const TestServer& server, const std::string& model,
                                                 SharedMemoryMode shm) {
    TritonClient::Options options = ClientOptions(server, model, GetParam());
    options.shared_memory = shm;
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // The server's system regions of this process's clients: name -> byte size.
  static std::map<std::string, uint64_t> ServerRegions(const TestServer& server) {
    auto stub = NewStub(server.server->address());
    inference::SystemSharedMemoryStatusRequest request;
    inference::SystemSharedMemoryStatusResponse response;
    grpc::Status status = stub->SystemSharedMemoryStatus(NewContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, uint64_t> regions;
    const std::string prefix = absl::StrCat("sonic_", getpid(), "_");
    for (const auto& [name, region] : response.regions()) {
      if (name.starts_with(prefix)) regions[name] = region.byte_size();
    }
    return regions;
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_;
};

// Sends `values` to INPUT_<wire> of both clients.
template <typename T>
void SendBoth(TritonClient& a, TritonClient& b, const std::string& wire,
              const std::vector<T>& values) {
  for (TritonClient* client : {&a, &b}) {
    client::TritonInputData* input = *client->input("INPUT_" + wire);
    ASSERT_TRUE(input->setShape({static_cast<int64_t>(values.size())}).ok());
    absl::StatusOr<client::TritonInputContainer<T>> data = input->template allocate<T>();
    ASSERT_TRUE(data.ok()) << data.status();
    (**data)[0] = values;
    ASSERT_TRUE(input->toServer(*data).ok()) << wire;
  }
}

// The address of the first element of entry 0 of `output` read as R (nullptr when empty).
template <typename R>
const void* FirstElement(const client::TritonOutputData& output) {
  absl::StatusOr<client::TritonOutput<R>> views = output.template fromServer<R>();
  if (!views.ok() || views->empty() || (*views)[0].begin() == (*views)[0].end()) return nullptr;
  return &*(*views)[0].begin();
}

// OUTPUT_<wire> of both clients, read as R, equals `expected`; the shared-memory client's
// output came in the response (variable dims), not from its region.
template <typename R, typename T>
void ExpectBoth(const TritonClient& heap, const TritonClient& shm, const std::string& wire,
                const std::vector<T>& expected) {
  for (const TritonClient* client : {&heap, &shm}) {
    const client::TritonOutputData* output = *client->output("OUTPUT_" + wire);
    absl::StatusOr<client::TritonOutput<R>> views = output->template fromServer<R>();
    ASSERT_TRUE(views.ok()) << views.status();
    ASSERT_EQ(views->size(), 1u);
    std::vector<T> actual((*views)[0].begin(), (*views)[0].end());
    EXPECT_EQ(actual, expected) << wire;
  }
  const void* first = FirstElement<R>(**shm.output("OUTPUT_" + wire));
  if (first != nullptr) {
    EXPECT_FALSE(InClientRegion(first)) << wire;
  }
}

TEST_P(ClientShmTest, EveryDatatypeGivesTheSameResultsWithAndWithoutSharedMemory) {
  std::unique_ptr<TritonClient> heap =
      NewClient(*server_, "identity_all_types", SharedMemoryMode::kOff);
  std::unique_ptr<TritonClient> shm =
      NewClient(*server_, "identity_all_types", SharedMemoryMode::kAuto);
  ASSERT_TRUE(heap != nullptr && shm != nullptr);
  const std::vector<bool> bools = {true, false, true};
  const std::vector<uint8_t> u8 = {0, 200, 255};
  const std::vector<uint16_t> u16 = {1, 65535};
  const std::vector<uint32_t> u32 = {7, 4000000000u};
  const std::vector<uint64_t> u64 = {1, 18000000000000000000ull};
  const std::vector<int8_t> i8 = {-128, 0, 127};
  const std::vector<int16_t> i16 = {-30000, 30000};
  const std::vector<int32_t> i32 = {-2, 2000000000};
  const std::vector<int64_t> i64 = {-9000000000000000000ll, 3};
  const std::vector<client::Float16> f16 = {{0x3c00}, {0xc000}};
  const std::vector<float> f32 = {1.5f, -0.25f, 1e30f};
  const std::vector<double> f64 = {3.141592653589793, -1e300};
  const std::vector<std::string> bytes = {"shared", "", std::string("a\0b", 3)};
  const std::vector<client::BFloat16> bf16 = {{0x3f80}, {0x4000}, {0xbf80}};
  SendBoth(*heap, *shm, "BOOL", bools);
  SendBoth(*heap, *shm, "UINT8", u8);
  SendBoth(*heap, *shm, "UINT16", u16);
  SendBoth(*heap, *shm, "UINT32", u32);
  SendBoth(*heap, *shm, "UINT64", u64);
  SendBoth(*heap, *shm, "INT8", i8);
  SendBoth(*heap, *shm, "INT16", i16);
  SendBoth(*heap, *shm, "INT32", i32);
  SendBoth(*heap, *shm, "INT64", i64);
  SendBoth(*heap, *shm, "FP16", f16);
  SendBoth(*heap, *shm, "FP32", f32);
  SendBoth(*heap, *shm, "FP64", f64);
  SendBoth(*heap, *shm, "BYTES", bytes);
  SendBoth(*heap, *shm, "BF16", bf16);
  ASSERT_TRUE(DispatchAndWait(*heap).ok());
  absl::Status status = DispatchAndWait(*shm);
  ASSERT_TRUE(status.ok()) << status;
  // The shared-memory client's inputs went through its one region.
  EXPECT_THAT(ServerRegions(*server_), SizeIs(1));
  ExpectBoth<bool>(*heap, *shm, "BOOL", bools);
  ExpectBoth<uint8_t>(*heap, *shm, "UINT8", u8);
  ExpectBoth<uint16_t>(*heap, *shm, "UINT16", u16);
  ExpectBoth<uint32_t>(*heap, *shm, "UINT32", u32);
  ExpectBoth<uint64_t>(*heap, *shm, "UINT64", u64);
  ExpectBoth<int8_t>(*heap, *shm, "INT8", i8);
  ExpectBoth<int16_t>(*heap, *shm, "INT16", i16);
  ExpectBoth<int32_t>(*heap, *shm, "INT32", i32);
  ExpectBoth<int64_t>(*heap, *shm, "INT64", i64);
  ExpectBoth<client::Float16>(*heap, *shm, "FP16", f16);
  ExpectBoth<float>(*heap, *shm, "FP32", f32);
  ExpectBoth<double>(*heap, *shm, "FP64", f64);
  ExpectBoth<std::string_view>(*heap, *shm, "BYTES", bytes);
  ExpectBoth<client::BFloat16>(*heap, *shm, "BF16", bf16);
}

TEST_P(ClientShmTest, FixedSizeOutputsAreReadFromTheRegion) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  std::unique_ptr<TritonClient> heap = NewClient(*server_, "torch_mlp", SharedMemoryMode::kOff);
  std::unique_ptr<TritonClient> shm = NewClient(*server_, "torch_mlp", SharedMemoryMode::kAuto);
  ASSERT_TRUE(heap != nullptr && shm != nullptr);
  std::vector<std::vector<float>> rows(5, std::vector<float>(kTorchMlpInputSize));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int i = 0; i < kTorchMlpInputSize; ++i) rows[r][i] = 0.1f * static_cast<float>(r + i);
  }
  ASSERT_TRUE(SendFp32(*heap, "INPUT__0", rows).ok());
  ASSERT_TRUE(SendFp32(*shm, "INPUT__0", rows).ok());
  ASSERT_TRUE(DispatchAndWait(*heap).ok());
  absl::Status status = DispatchAndWait(*shm);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*ReadFp32(*heap, "OUTPUT__0"), *ReadFp32(*shm, "OUTPUT__0"));
  EXPECT_TRUE(InClientRegion(FirstElement<float>(**shm->output("OUTPUT__0"))));
  EXPECT_FALSE(InClientRegion(FirstElement<float>(**heap->output("OUTPUT__0"))));
}

TEST_P(ClientShmTest, TheRegionIsReusedAndGrowsWithTheEvents) {
  std::unique_ptr<TritonClient> client =
      NewClient(*server_, "identity_fp32", SharedMemoryMode::kAuto);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{1, 2, 3}}).ok());
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_THAT(*ReadFp32(*client, "OUTPUT0"), ElementsAre(ElementsAre(1, 2, 3)));
  const std::map<std::string, uint64_t> first = ServerRegions(*server_);
  ASSERT_THAT(first, SizeIs(1));
  client->reset();

  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{4, 5}}).ok());  // small again: the same region
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_EQ(ServerRegions(*server_), first);
  client->reset();

  const std::vector<std::vector<float>> big(8, std::vector<float>(100000, 2.5f));
  ASSERT_TRUE(SendFp32(*client, "INPUT0", big).ok());
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_EQ(*ReadFp32(*client, "OUTPUT0"), big);
  const std::map<std::string, uint64_t> grown = ServerRegions(*server_);
  ASSERT_THAT(grown, SizeIs(1));
  EXPECT_GT(grown.begin()->second, first.begin()->second);
  EXPECT_GE(grown.begin()->second, 8u * 100000u * sizeof(float));

  client.reset();
  EXPECT_THAT(ServerRegions(*server_), IsEmpty());
  EXPECT_THAT(OwnShmEntries(), IsEmpty());
}

TEST_P(ClientShmTest, OffOrRemoteMeansNoRegion) {
  std::unique_ptr<TritonClient> client =
      NewClient(*server_, "identity_fp32", SharedMemoryMode::kOff);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{1, 2, 3}}).ok());
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_THAT(*ReadFp32(*client, "OUTPUT0"), ElementsAre(ElementsAre(1, 2, 3)));
  EXPECT_THAT(ServerRegions(*server_), IsEmpty());
}

TEST_P(ClientShmTest, NothingIsLeftInDevShmAfterAFailedJob) {
  const std::set<std::string> before = OwnShmEntries();
  absl::StatusOr<TestServer> doomed = StartTestServer({});
  ASSERT_TRUE(doomed.ok()) << doomed.status();
  std::unique_ptr<TritonClient> client =
      NewClient(*doomed, "identity_fp32", SharedMemoryMode::kAuto);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{1, 2, 3}}).ok());
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_THAT(ServerRegions(*doomed), SizeIs(1));
  client->reset();

  ASSERT_TRUE(doomed->server->Stop(SIGKILL).ok());
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{4, 5, 6}}).ok());
  absl::Status status = DispatchAndWait(*client);
  EXPECT_EQ(client::GetErrorCategory(status), client::ErrorCategory::kServerUnavailable) << status;
  client.reset();
  EXPECT_EQ(OwnShmEntries(), before);
  EXPECT_THAT(OwnShmEntries(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientShmTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
