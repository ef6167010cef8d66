// Every datatype of the protocol through TritonClient's typed inputs and zero-copy outputs, with
// identity_all_types (one INPUT_<T> -> OUTPUT_<T> pair per wire type, dims [-1], no batching).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client_test_util.h"

namespace sonic::testing {
namespace {

using client::BFloat16;
using client::Float16;
using client::SonicMode;
using client::TritonClient;

class ClientDataTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) server_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(setup_.ok()) << setup_;
    absl::StatusOr<std::unique_ptr<TritonClient>> client =
        TritonClient::Create(ClientOptions(*server_, "identity_all_types", GetParam()));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  // Sends `values` to INPUT_<wire> (shape [values.size()]).
  template <typename T>
  void Send(const std::string& wire, const std::vector<T>& values) {
    absl::StatusOr<client::TritonInputData*> input = client_->input("INPUT_" + wire);
    ASSERT_TRUE(input.ok()) << input.status();
    ASSERT_TRUE((*input)->setShape({static_cast<int64_t>(values.size())}).ok());
    absl::StatusOr<client::TritonInputContainer<T>> data = (*input)->template allocate<T>();
    ASSERT_TRUE(data.ok()) << data.status();
    (**data)[0] = values;
    ASSERT_TRUE((*input)->toServer(*data).ok());
  }

  // OUTPUT_<wire> read as R equals `expected`.
  template <typename R, typename T>
  void Expect(const std::string& wire, const std::vector<T>& expected) {
    absl::StatusOr<const client::TritonOutputData*> output = client_->output("OUTPUT_" + wire);
    ASSERT_TRUE(output.ok()) << output.status();
    absl::StatusOr<client::TritonOutput<R>> views = (*output)->template fromServer<R>();
    ASSERT_TRUE(views.ok()) << views.status();
    ASSERT_EQ(views->size(), 1u);
    std::vector<T> actual((*views)[0].begin(), (*views)[0].end());
    EXPECT_EQ(actual, expected) << wire;
    EXPECT_EQ(*(*output)->shape(0), (Shape{static_cast<int64_t>(expected.size())})) << wire;
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_;
  std::unique_ptr<TritonClient> client_;
};

TEST_P(ClientDataTest, EveryDatatypeRoundTrips) {
  const std::vector<bool> bools = {true, false, true};
  const std::vector<uint8_t> u8 = {0, 200, 255};
  const std::vector<uint16_t> u16 = {1, 65535};
  const std::vector<uint32_t> u32 = {7, 4000000000u};
  const std::vector<uint64_t> u64 = {1, 18000000000000000000ull};
  const std::vector<int8_t> i8 = {-128, 0, 127};
  const std::vector<int16_t> i16 = {-30000, 30000};
  const std::vector<int32_t> i32 = {-2, 2000000000};
  const std::vector<int64_t> i64 = {-9000000000000000000ll, 3};
  const std::vector<Float16> f16 = {{0x3c00}, {0xc000}};  // 1.0, -2.0
  const std::vector<float> f32 = {1.5f, -0.25f, 1e30f};
  const std::vector<double> f64 = {3.141592653589793, -1e300};
  const std::vector<std::string> bytes = {"hello", "", std::string("a\0b", 3)};
  const std::vector<BFloat16> bf16 = {{0x3f80}, {0x4000}, {0xbf80}};  // 1, 2, -1

  Send("BOOL", bools);
  Send("UINT8", u8);
  Send("UINT16", u16);
  Send("UINT32", u32);
  Send("UINT64", u64);
  Send("INT8", i8);
  Send("INT16", i16);
  Send("INT32", i32);
  Send("INT64", i64);
  Send("FP16", f16);
  Send("FP32", f32);
  Send("FP64", f64);
  Send("BYTES", bytes);
  Send("BF16", bf16);
  ASSERT_TRUE(DispatchAndWait(*client_).ok());

  Expect<bool>("BOOL", bools);
  Expect<uint8_t>("UINT8", u8);
  Expect<uint16_t>("UINT16", u16);
  Expect<uint32_t>("UINT32", u32);
  Expect<uint64_t>("UINT64", u64);
  Expect<int8_t>("INT8", i8);
  Expect<int16_t>("INT16", i16);
  Expect<int32_t>("INT32", i32);
  Expect<int64_t>("INT64", i64);
  Expect<Float16>("FP16", f16);
  Expect<float>("FP32", f32);
  Expect<double>("FP64", f64);
  Expect<std::string_view>("BYTES", bytes);
  Expect<BFloat16>("BF16", bf16);
}

TEST_P(ClientDataTest, EmptyTensorsAreValid) {
  for (const std::string wire : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                  "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"}) {
    client::TritonInputData* input = *client_->input("INPUT_" + wire);
    ASSERT_TRUE(input->setShape({0}).ok());
  }
  Send("BOOL", std::vector<bool>{});
  Send("UINT8", std::vector<uint8_t>{});
  Send("UINT16", std::vector<uint16_t>{});
  Send("UINT32", std::vector<uint32_t>{});
  Send("UINT64", std::vector<uint64_t>{});
  Send("INT8", std::vector<int8_t>{});
  Send("INT16", std::vector<int16_t>{});
  Send("INT32", std::vector<int32_t>{});
  Send("INT64", std::vector<int64_t>{});
  Send("FP16", std::vector<Float16>{});
  Send("FP32", std::vector<float>{});
  Send("FP64", std::vector<double>{});
  Send("BYTES", std::vector<std::string>{});
  Send("BF16", std::vector<BFloat16>{});
  absl::Status status = DispatchAndWait(*client_);
  ASSERT_TRUE(status.ok()) << status;
  Expect<float>("FP32", std::vector<float>{});
  Expect<std::string_view>("BYTES", std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientDataTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
