// The texts a verbose TritonClient logs, from known statistics, and the difference of two
// ModelStatistics snapshots they are made of.
#include "verbose_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server_statistics.h"

namespace sonic::client::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

inference::ModelStatistics Snapshot(uint64_t inferences, uint64_t executions, uint64_t successes,
                                    uint64_t success_ns, uint64_t queue_ns, uint64_t input_ns,
                                    uint64_t infer_ns, uint64_t output_ns) {
  inference::ModelStatistics stats;
  stats.set_name("m");
  stats.set_inference_count(inferences);
  stats.set_execution_count(executions);
  inference::InferStatistics& infer = *stats.mutable_inference_stats();
  infer.mutable_success()->set_count(successes);
  infer.mutable_success()->set_ns(success_ns);
  infer.mutable_queue()->set_count(successes);
  infer.mutable_queue()->set_ns(queue_ns);
  infer.mutable_compute_input()->set_ns(input_ns);
  infer.mutable_compute_infer()->set_ns(infer_ns);
  infer.mutable_compute_output()->set_ns(output_ns);
  return stats;
}

TEST(VerboseReportTest, SplitsTheAverageRequestLatencyOfTheWindow) {
  // Before: other work already counted; after: 2 requests of 2 entries in 2 executions, 300 us
  // in the server of which 240 us accounted for.
  const inference::ModelStatistics before = Snapshot(10, 5, 5, 1'000'000, 1, 2, 3, 4);
  const inference::ModelStatistics after =
      Snapshot(14, 7, 7, 1'300'000, 100'001, 20'002, 100'003, 20'004);
  const std::string text =
      FormatAttemptReport(DiffServerStatistics(before, after), absl::Microseconds(400));
  EXPECT_THAT(text, HasSubstr("4 inferences, 2 executions, 2 successful requests"));
  EXPECT_THAT(text, HasSubstr("average request latency 150.0 us (overhead 30.0 us + queue 50.0 "
                              "us + compute input 10.0 us + compute infer 50.0 us + compute "
                              "output 10.0 us)"));
  EXPECT_THAT(text, HasSubstr("round trip at the client 400.0 us"));
}

TEST(VerboseReportTest, NoAveragesWithoutSuccessfulRequests) {
  const inference::ModelStatistics same = Snapshot(3, 3, 3, 9, 1, 1, 1, 1);
  const std::string text =
      FormatAttemptReport(DiffServerStatistics(same, same), absl::Microseconds(5));
  EXPECT_THAT(text, HasSubstr("0 inferences, 0 executions, 0 successful requests"));
  EXPECT_THAT(text, Not(HasSubstr("average")));
}

TEST(VerboseReportTest, OverheadIsNeverNegative) {
  ServerSideStatistics server;
  server.success_count = 1;
  server.request_time = absl::Microseconds(10);
  server.compute_infer_time = absl::Microseconds(12);  // clocks read at different points
  EXPECT_THAT(FormatAttemptReport(server, absl::ZeroDuration()),
              HasSubstr("average request latency 10.0 us (overhead 0.0 us"));
}

TEST(VerboseReportTest, DescribesTheModelAsCmsswDoes) {
  ModelIo io;
  io.max_batch_size = 8;
  io.inputs.push_back({.name = "x", .type = DataType::kFp32, .dims = {-1, 16}});
  io.outputs.push_back({.name = "y", .type = DataType::kInt64, .dims = {4}});
  io.outputs.push_back({.name = "s", .type = DataType::kBytes, .dims = {1}});
  EXPECT_EQ(DescribeModelForLog(io, "C: model 'm'"),
            "C: model 'm': max batch size 8; inputs: x (FP32, 4 b) [-1,16]; outputs: y (INT64, "
            "8 b) [4], s (BYTES, 0 b) [1]");
}

TEST(VerboseReportTest, WriteLogGivesTheMessageToTheSink) {
  std::vector<std::string> messages;
  WriteLog([&](std::string_view message) { messages.emplace_back(message); }, "hello");
  EXPECT_EQ(messages, std::vector<std::string>{"hello"});
}

}  // namespace
}  // namespace sonic::client::internal
