// The dynamic batcher's decisions at explicit times: which requests form each batch and when.
#include "server/core/dynamic_batcher.h"

#include <gtest/gtest.h>

#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

constexpr uint64_t kUs = 1000;  // ns

inference::ModelConfig Config(std::string_view batching, int max_batch_size = 8) {
  std::string text = "name: \"m\" backend: \"identity\" max_batch_size: " +
                     std::to_string(max_batch_size) +
                     " input { name: \"IN\" data_type: TYPE_FP32 dims: [ -1 ] }"
                     " output { name: \"OUT\" data_type: TYPE_FP32 dims: [ -1 ] } " +
                     std::string(batching);
  auto config = ParseModelConfig(text, "m");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// Requests are told apart by id; `width` stands for the shape of a non-ragged input.
std::unique_ptr<InferenceRequest> Request(std::string id, int64_t batch_size = 1, int width = 4,
                                          uint64_t priority = 0, uint64_t timeout_us = 0) {
  auto request = std::make_unique<InferenceRequest>();
  request->id = std::move(id);
  request->batch_size = batch_size;
  request->inputs.push_back({"IN", DataType::kFp32, {batch_size, width}, {}});
  request->priority = priority;
  request->timeout_us = timeout_us;
  return request;
}

bool SameWidth(const InferenceRequest& a, const InferenceRequest& b) {
  return a.inputs[0].shape[1] == b.inputs[0].shape[1];
}

std::vector<std::string> Ids(const Batch& batch) {
  std::vector<std::string> ids;
  for (const auto& request : batch) ids.push_back(request->id);
  return ids;
}

using Ids_ = std::vector<std::string>;

void Add(DynamicBatcher& batcher, std::unique_ptr<InferenceRequest> request, uint64_t now) {
  ASSERT_TRUE(batcher.Enqueue(request, now).ok());
}

TEST(DynamicBatcherTest, WithoutDynamicBatchingEachRequestRunsAlone) {
  DynamicBatcher batcher(Config(""), SameWidth);
  Add(batcher, Request("a"), 0);
  Add(batcher, Request("b"), 0);
  EXPECT_EQ(Ids(batcher.TakeBatch(0)), Ids_{"a"});
  EXPECT_EQ(Ids(batcher.TakeBatch(0)), Ids_{"b"});
  EXPECT_TRUE(batcher.TakeBatch(0).empty());
  EXPECT_EQ(batcher.NextDecisionNs(), std::nullopt);
}

TEST(DynamicBatcherTest, ZeroDelayTakesWhatIsQueued) {
  DynamicBatcher batcher(Config("dynamic_batching {}"), SameWidth);
  Add(batcher, Request("a"), 0);
  Add(batcher, Request("b", 3), 0);
  Add(batcher, Request("c"), 0);
  EXPECT_EQ(Ids(batcher.TakeBatch(0)), (Ids_{"a", "b", "c"}));
  EXPECT_TRUE(batcher.empty());
}

TEST(DynamicBatcherTest, WaitsForTheQueueDelayUnlessFull) {
  DynamicBatcher batcher(Config("dynamic_batching { max_queue_delay_microseconds: 100 }", 4),
                         SameWidth);
  Add(batcher, Request("a"), 0);
  Add(batcher, Request("b"), 10 * kUs);
  EXPECT_TRUE(batcher.TakeBatch(50 * kUs).empty()) << "the oldest has waited 50 of 100 us";
  EXPECT_EQ(batcher.NextDecisionNs(), 100 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(100 * kUs)), (Ids_{"a", "b"}));

  Add(batcher, Request("c", 2), 200 * kUs);
  Add(batcher, Request("d", 2), 201 * kUs);
  Add(batcher, Request("e"), 202 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(203 * kUs)), (Ids_{"c", "d"})) << "full at 4 entries";
  EXPECT_TRUE(batcher.TakeBatch(203 * kUs).empty());
  EXPECT_EQ(Ids(batcher.TakeBatch(302 * kUs)), (Ids_{"e"}));
}

TEST(DynamicBatcherTest, PreferredSizes) {
  DynamicBatcher batcher(
      Config("dynamic_batching { preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 100 }"),
      SameWidth);
  for (std::string id : {"a", "b", "c"}) Add(batcher, Request(id), 0);
  EXPECT_EQ(Ids(batcher.TakeBatch(10 * kUs)), (Ids_{"a", "b"}))
      << "a preferred size (2) is there: it runs without waiting for the delay";
  EXPECT_TRUE(batcher.TakeBatch(20 * kUs).empty()) << "1 row forms no preferred size";
  EXPECT_EQ(Ids(batcher.TakeBatch(100 * kUs)), (Ids_{"c"})) << "the delay is over";
  for (std::string id : {"d", "e", "f", "g", "h"}) Add(batcher, Request(id), 110 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(110 * kUs)), (Ids_{"d", "e", "f", "g"})) << "the largest: 4";
  EXPECT_TRUE(batcher.TakeBatch(120 * kUs).empty());
  Add(batcher, Request("i"), 130 * kUs);
  Add(batcher, Request("j"), 130 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(130 * kUs)), (Ids_{"h", "i"})) << "3 rows: 2 is preferred";
  Add(batcher, Request("k", 3), 140 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(140 * kUs)), (Ids_{"j", "k"})) << "4 rows in two requests";
}

TEST(DynamicBatcherTest, OnceTheDelayIsOverEveryRequestThatJoinsRuns) {
  DynamicBatcher batcher(
      Config("dynamic_batching { preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 100 }"),
      SameWidth);
  // Queued while the instance was busy: when it frees after the head's delay, all of them run
  // (up to max_batch_size, 8), not only the largest preferred size.
  for (std::string id : {"a", "b", "c", "d", "e", "f"}) Add(batcher, Request(id), 0);
  EXPECT_EQ(Ids(batcher.TakeBatch(150 * kUs)), (Ids_{"a", "b", "c", "d", "e", "f"}));
  for (std::string id : {"g", "h", "i"}) Add(batcher, Request(id), 200 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(300 * kUs)), (Ids_{"g", "h", "i"})) << "3 is not preferred";
}

TEST(DynamicBatcherTest, RowsPastTheLargestPreferredSizeRunWithinIt) {
  DynamicBatcher batcher(
      Config("dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 100 }"),
      SameWidth);
  Add(batcher, Request("a", 3), 0);
  Add(batcher, Request("b", 2), 0);
  EXPECT_EQ(Ids(batcher.TakeBatch(10 * kUs)), (Ids_{"a"})) << "3 rows stay within 4, 5 do not";
  EXPECT_TRUE(batcher.TakeBatch(20 * kUs).empty());
  Add(batcher, Request("c", 5), 30 * kUs);
  EXPECT_EQ(Ids(batcher.TakeBatch(30 * kUs)), (Ids_{"b"})) << "2 rows stay within 4, 7 do not";
  EXPECT_EQ(Ids(batcher.TakeBatch(30 * kUs)), (Ids_{"c"})) << "a head past every preferred size";
}

TEST(DynamicBatcherTest, DifferentShapesGoInDifferentBatches) {
  DynamicBatcher batcher(Config("dynamic_batching {}"), SameWidth);
  Add(batcher, Request("a", 1, 4), 0);
  Add(batcher, Request("b", 1, 5), 0);
  Add(batcher, Request("c", 1, 4), 0);
  Add(batcher, Request("d", 1, 5), 0);
  EXPECT_EQ(Ids(batcher.TakeBatch(0)), (Ids_{"a", "c"}));
  EXPECT_EQ(Ids(batcher.TakeBatch(0)), (Ids_{"b", "d"}));
}

TEST(DynamicBatcherTest, QueueFullIsUnavailableAndKeepsTheRequest) {
  DynamicBatcher batcher(
      Config("dynamic_batching { default_queue_policy { max_queue_size: 2 } }"), SameWidth);
  Add(batcher, Request("a"), 0);
  Add(batcher, Request("b"), 0);
  auto third = Request("c");
  absl::StatusOr<bool> status = batcher.Enqueue(third, 0);
  EXPECT_EQ(status.status().code(), absl::StatusCode::kUnavailable);
  ASSERT_NE(third, nullptr) << "a refused request stays with the caller";
  EXPECT_EQ(third->id, "c");
}

TEST(DynamicBatcherTest, PriorityLevelsAreServedInOrder) {
  DynamicBatcher batcher(
      Config("dynamic_batching { priority_levels: 2 default_priority_level: 2 }", 2), SameWidth);
  Add(batcher, Request("low1"), 0);
  Add(batcher, Request("low2"), 1);
  Add(batcher, Request("high", 1, 4, 1), 2);
  EXPECT_EQ(Ids(batcher.TakeBatch(3)), (Ids_{"high", "low1"}));
  EXPECT_EQ(Ids(batcher.TakeBatch(3)), (Ids_{"low2"}));
}

TEST(DynamicBatcherTest, PriorityAboveTheLevelsUsesTheDefaultLevel) {
  DynamicBatcher batcher(
      Config("dynamic_batching { priority_levels: 2 default_priority_level: 2 }", 2), SameWidth);
  Add(batcher, Request("high", 1, 4, 1), 0);
  Add(batcher, Request("above", 1, 4, 3), 1);  // Triton: the default level, no error
  Add(batcher, Request("default"), 2);
  EXPECT_EQ(Ids(batcher.TakeBatch(3)), (Ids_{"high", "above"}));
  EXPECT_EQ(Ids(batcher.TakeBatch(3)), (Ids_{"default"}));
}

TEST(DynamicBatcherTest, TimeoutRejectOrDelay) {
  DynamicBatcher reject(
      Config("dynamic_batching { max_queue_delay_microseconds: 1000 default_queue_policy {"
             " default_timeout_microseconds: 50 allow_timeout_override: true } }"),
      SameWidth);
  Add(reject, Request("a"), 0);
  Add(reject, Request("b", 1, 4, 0, 500), 0);  // overrides the default timeout
  EXPECT_EQ(reject.NextDecisionNs(), 50 * kUs);
  EXPECT_TRUE(reject.TakeExpired(49 * kUs).empty());
  auto expired = reject.TakeExpired(50 * kUs);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0]->id, "a");
  EXPECT_EQ(reject.size(), 1u);

  DynamicBatcher delay(
      Config("dynamic_batching { priority_levels: 2 default_priority_level: 1 "
             "priority_queue_policy { key: 1 value { timeout_action: DELAY "
             "default_timeout_microseconds: 10 } } }"),
      SameWidth);
  Add(delay, Request("late"), 0);
  Add(delay, Request("other", 1, 5, 2), 5 * kUs);
  EXPECT_TRUE(delay.TakeExpired(20 * kUs).empty()) << "DELAY keeps the request";
  EXPECT_EQ(Ids(delay.TakeBatch(20 * kUs)), (Ids_{"other"})) << "the delayed one goes last";
  EXPECT_EQ(Ids(delay.TakeBatch(20 * kUs)), (Ids_{"late"}));
}

// Enqueue's answer: whether an owner waiting until the NextDecisionNs() of before the arrival
// must look again.
bool DecidesSooner(DynamicBatcher& batcher, std::unique_ptr<InferenceRequest> request,
                   uint64_t now) {
  absl::StatusOr<bool> decides_sooner = batcher.Enqueue(request, now);
  EXPECT_TRUE(decides_sooner.ok()) << decides_sooner.status();
  return decides_sooner.value_or(true);
}

TEST(DynamicBatcherTest, OnlyArrivalsThatMayRunABatchSoonerAskForALook) {
  DynamicBatcher batcher(
      Config("dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 100 "
             "default_queue_policy { allow_timeout_override: true } }"),
      SameWidth);
  EXPECT_TRUE(DecidesSooner(batcher, Request("a"), 0)) << "the first starts the delay";
  EXPECT_FALSE(DecidesSooner(batcher, Request("b"), 10 * kUs)) << "2 of 4 rows: still waits";
  EXPECT_FALSE(DecidesSooner(batcher, Request("c", 1, 4, 0, 100), 20 * kUs))
      << "its timeout ends after the head's delay";
  EXPECT_TRUE(DecidesSooner(batcher, Request("d", 1, 4, 0, 50), 30 * kUs))
      << "its timeout ends before the head's delay";
  EXPECT_TRUE(batcher.TakeExpired(79 * kUs).empty());
  EXPECT_EQ(Ids(batcher.TakeBatch(40 * kUs)), (Ids_{"a", "b", "c", "d"}));
  EXPECT_TRUE(DecidesSooner(batcher, Request("e", 3), 50 * kUs)) << "the queue was empty";
  EXPECT_TRUE(DecidesSooner(batcher, Request("f"), 60 * kUs)) << "4 rows fill a batch";

  DynamicBatcher two_sizes(
      Config("dynamic_batching { preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 100 }"),
      SameWidth);
  EXPECT_TRUE(DecidesSooner(two_sizes, Request("a"), 0));
  EXPECT_TRUE(DecidesSooner(two_sizes, Request("b"), 10 * kUs)) << "2 rows: a preferred size";
  EXPECT_EQ(Ids(two_sizes.TakeBatch(10 * kUs)), (Ids_{"a", "b"}));

  DynamicBatcher unbatched(Config(""), SameWidth);
  EXPECT_TRUE(DecidesSooner(unbatched, Request("a"), 0));
  EXPECT_TRUE(DecidesSooner(unbatched, Request("b"), 0)) << "every request runs at once";
  DynamicBatcher no_delay(Config("dynamic_batching {}"), SameWidth);
  EXPECT_TRUE(DecidesSooner(no_delay, Request("a"), 0));
  EXPECT_TRUE(DecidesSooner(no_delay, Request("b"), 0)) << "nothing waits for a delay";
}

TEST(DynamicBatcherTest, HugeRequestTimeoutNeverWrapsIntoThePast) {
  DynamicBatcher batcher(
      Config("dynamic_batching { max_queue_delay_microseconds: 1000 default_queue_policy {"
             " allow_timeout_override: true } }"),
      SameWidth);
  const uint64_t now = 1'000'000 * kUs;
  Add(batcher, Request("forever", 1, 4, 0, UINT64_MAX), now);
  EXPECT_TRUE(batcher.TakeExpired(now + 1).empty());
  EXPECT_EQ(batcher.NextDecisionNs(), now + 1000 * kUs) << "the queue delay decides, not a wrap";
  EXPECT_EQ(Ids(batcher.TakeBatch(now + 1000 * kUs)), (Ids_{"forever"}));
}

}  // namespace
}  // namespace sonic::server
