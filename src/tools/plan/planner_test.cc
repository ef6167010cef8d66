// The planner's arithmetic: capacity from measured levels, event rates, placement chosen by the
// numbers, the p99 budget, and the saving against direct inference, including the seed's scale
// (configs/plan/seed_scale.yaml, quoted in the README).
#include "planner.h"

#include <gtest/gtest.h>

#include <cmath>

#include "plan_inputs.h"

namespace sonic::tools {
namespace {

ProfileLevel Level(int64_t batch, double concurrency, double throughput, double latency_ms,
                   double p99_ms) {
  ProfileLevel level;
  level.batch_size = batch;
  level.concurrency = concurrency;
  level.throughput = throughput;
  level.latency_avg_us = level.latency_p50_us = latency_ms * 1000;
  level.latency_p99_us = p99_ms * 1000;
  return level;
}

// One model served at 100 entries/s per device (batch 1, one instance, 10 ms each).
PlanInputs OneModel(double events_per_second) {
  PlanInputs inputs;
  ModelProfile profile;
  profile.model = "m";
  profile.levels = {Level(1, 1, 100, 10, 10)};
  inputs.profiles = {profile};
  inputs.workload.jobs = 1;
  inputs.workload.threads = 1;
  inputs.workload.events_per_second_per_thread = events_per_second;
  inputs.workload.models = {{"m", 1, 1}};
  return inputs;
}

// Two models of OneModel's profile, m and n, that never share a device: 50,000 MB each on
// devices of 80,000 MB. Per event, `m_calls` requests of m and `n_calls` of n, one entry each.
PlanInputs TwoModelsApart(double events_per_second, double m_calls, double n_calls) {
  PlanInputs inputs = OneModel(events_per_second);
  inputs.profiles[0].memory_mb_per_instance = 50000;
  ModelProfile second = inputs.profiles[0];
  second.model = "n";
  inputs.profiles.push_back(second);
  inputs.workload.models = {{"m", m_calls, 1}, {"n", n_calls, 1}};
  inputs.constraints.gpu_memory_mb = 80000;
  return inputs;
}

TEST(PlannerTest, SeedScaleNeedsAThirdOfTheGpusOfDirectInference) {
  absl::StatusOr<PlanInputs> inputs =
      ReadPlanInputs(std::filesystem::path(SONIC_SOURCE_DIR) / "configs/plan/seed_scale.yaml");
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  absl::StatusOr<Plan> plan = MakePlan(*inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // 10,000 cores x 1 event/s x (10/2000 + 4/2000 + 1/1000) s = 80 GPUs' worth; at 0.8: 100.
  EXPECT_DOUBLE_EQ(plan->cores, 10000);
  EXPECT_DOUBLE_EQ(plan->events_per_second, 10000);
  EXPECT_NEAR(plan->models[0].load + plan->models[1].load + plan->models[2].load, 80, 1e-9);
  EXPECT_EQ(plan->gpus, 100);
  EXPECT_EQ(plan->servers, 100);
  EXPECT_NEAR(plan->utilization, 0.8, 1e-9);
  // Splitting packs the two remainders (0.4 of ParticleNet, 0.4 of DeepMET) on one GPU: a tie,
  // and a tie goes to everywhere.
  EXPECT_EQ(plan->split.devices, 100);
  EXPECT_EQ(plan->chosen, PlacementKind::kEverywhere);
  // Direct: 10,000 / 32 = 312.5 -> 313 GPUs, each at 32 x 8 ms/s = 0.256.
  ASSERT_TRUE(plan->direct.has_value());
  EXPECT_EQ(plan->direct->gpus, 313);
  EXPECT_NEAR(plan->direct->utilization, 0.256, 1e-9);
  EXPECT_NEAR(plan->direct->saving, 3.13, 1e-9);
  EXPECT_TRUE(plan->notes.empty());
  // An everywhere GPU: jobs of 8 threads at 8 ms per event use 0.064 of a GPU each.
  EXPECT_NEAR(plan->jobs_per_server_at_saturation, 1 / 0.064, 1e-9);
  EXPECT_NEAR(plan->jobs_per_server, 12.5, 1e-9);
}

TEST(PlannerTest, CapacityScalesLevelsBelowTheInstanceCountAndHonoursTheBudget) {
  PlanInputs inputs = OneModel(10);
  ModelProfile& profile = inputs.profiles[0];
  profile.instances = 2;
  // Two instances of 50 ms: one outstanding request uses one of them (20/s), two use both.
  profile.levels = {Level(1, 1, 19.8, 50.5, 51), Level(1, 2, 39.0, 51, 52),
                    Level(1, 4, 39.6, 101, 103)};
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // Level 1 scaled to 39.6 ties level 4 (39.6) and beats level 2: the lowest concurrency wins.
  EXPECT_DOUBLE_EQ(plan->models[0].capacity, 39.6);
  EXPECT_EQ(plan->models[0].level.concurrency, 1);
  EXPECT_DOUBLE_EQ(plan->models[0].unloaded_latency_ms, 50.5);

  profile.levels = {Level(1, 2, 30, 60, 70), Level(1, 4, 40, 100, 120)};
  inputs.constraints.p99_latency_ms = 100;
  plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_DOUBLE_EQ(plan->models[0].capacity, 30);  // level 4's p99 is over the budget

  inputs.constraints.p99_latency_ms = 50;
  EXPECT_EQ(MakePlan(inputs).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PlannerTest, BatchSizeAndEntriesSetTheLoad) {
  PlanInputs inputs = OneModel(20);
  inputs.profiles[0].levels = {Level(1, 4, 100, 10, 10), Level(8, 4, 800, 40, 40)};
  inputs.workload.models = {{"m", 2, 5}};  // 2 calls of 5 entries: measured at batch 8
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->models[0].level.batch_size, 8);
  EXPECT_DOUBLE_EQ(plan->models[0].requests_per_second, 40);
  EXPECT_DOUBLE_EQ(plan->models[0].load, 40 * 5 / 800.0);
  EXPECT_DOUBLE_EQ(plan->models[0].service.mean_s, 5 / 800.0);
  EXPECT_EQ(plan->models[0].preferred_batch_size, 32);  // 4 requests of 8 on one instance

  inputs.workload.models = {{"m", 1, 20}};  // more than any measured batch: the largest
  plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->models[0].level.batch_size, 8);
}

TEST(PlannerTest, SyncCallsAddTheirUnloadedLatencyToTheEvent) {
  PlanInputs inputs = OneModel(1);
  inputs.workload.events_per_second_per_thread.reset();
  inputs.workload.cpu_ms_per_event = 40;
  inputs.workload.models = {{"m", 2, 1}};
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_DOUBLE_EQ(plan->events_per_second_per_thread, 1 / 0.060);  // 40 + 2 x 10 ms

  inputs.workload.client_mode = ClientMode::kAsync;
  plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_DOUBLE_EQ(plan->events_per_second_per_thread, 1 / 0.040);

  inputs.workload.cpu_ms_per_event = 0;
  EXPECT_EQ(MakePlan(inputs).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlannerTest, MemoryThatDoesNotHoldEveryModelSplitsThem) {
  PlanInputs inputs = TwoModelsApart(60, 1, 1);
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->everywhere.feasible);
  EXPECT_EQ(plan->chosen, PlacementKind::kSplit);
  // Loads 0.6 and 0.6: together they would fit 2 devices, but not in memory: one each.
  EXPECT_EQ(plan->gpus, 2);
  for (const DeviceGroup& group : plan->split.groups) EXPECT_EQ(group.shares.size(), 1u);

  inputs.constraints.gpu_memory_mb = 100000;  // now both fit on one device
  plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->chosen, PlacementKind::kEverywhere);
  EXPECT_EQ(plan->gpus, 2);  // 1.2 / 0.8

  inputs.constraints.gpu_memory_mb = 40000;
  EXPECT_EQ(MakePlan(inputs).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PlannerTest, ASplitPlanCountsTheServersOfEachGroupOfDevices) {
  // m: 2.4 devices' worth (3 devices at 0.8); n: 1.2 (one at 0.8, 0.4 left on a device of its
  // own). The two never share a device's memory; a server loads one group's models.
  PlanInputs inputs = TwoModelsApart(240, 1, 0.5);
  inputs.profiles[0].server_cpu_us_per_request = 1000;
  inputs.profiles[1].server_cpu_us_per_request = 1000;
  inputs.constraints.gpus_per_server = 2;
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->chosen, PlacementKind::kSplit);
  EXPECT_EQ(plan->gpus, 5);
  int servers = 0;
  for (const DeviceGroup& group : plan->split.groups) servers += (group.count + 1) / 2;
  EXPECT_EQ(servers, 4);  // m: 3 devices on 2 servers; n: 1 + 1
  EXPECT_EQ(plan->servers, servers);
  EXPECT_DOUBLE_EQ(plan->jobs_per_server, 1.0 / servers);
  // The busiest server: two of m's devices, each 80 requests/s at 1 ms of CPU.
  EXPECT_NEAR(plan->server_cpu_cores, 2 * 80 * 1e-3, 1e-12);
}

TEST(PlannerTest, P99BudgetLowersTheTargetUtilization) {
  PlanInputs inputs = OneModel(560);  // 5.6 devices' worth of 10 ms requests, exponential-like
  inputs.profiles[0].levels = {Level(1, 1, 100, 10, 46)};
  inputs.constraints.p99_latency_ms = 100;
  absl::StatusOr<Plan> unconstrained_plan = [&] {
    PlanInputs loose = inputs;
    loose.constraints.p99_latency_ms = 1000;
    return MakePlan(loose);
  }();
  ASSERT_TRUE(unconstrained_plan.ok());
  EXPECT_EQ(unconstrained_plan->gpus, 7);
  EXPECT_GT(unconstrained_plan->queues[0].p99_s * 1000 + 46, 100);

  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_LT(plan->target_utilization, 0.8);
  EXPECT_GT(plan->gpus, 7);
  EXPECT_LE(plan->queues[0].p99_s * 1000 + 46, 100);
  ASSERT_FALSE(plan->notes.empty());
  EXPECT_NE(plan->notes[0].find("lowered"), std::string::npos);
  // The queue delay offered to the batcher is a tenth of what the budget leaves.
  const double slack_ms = 100 - 46 - plan->queues[0].p99_s * 1000;
  EXPECT_EQ(plan->models[0].max_queue_delay_us, static_cast<int64_t>(slack_ms * 100));
}

TEST(PlannerTest, ServerCpuAndNetworkFollowTheRequests) {
  PlanInputs inputs = OneModel(40);
  inputs.profiles[0].server_cpu_us_per_request = 500;
  inputs.profiles[0].request_bytes_per_entry = 1e6;
  inputs.profiles[0].response_bytes_per_entry = 0.25e6;
  inputs.constraints.gpus_per_server = 4;
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->gpus, 1);
  EXPECT_EQ(plan->servers, 1);
  EXPECT_DOUBLE_EQ(plan->server_cpu_cores, 40 * 500e-6);
  EXPECT_DOUBLE_EQ(plan->server_network_gbps, 40 * 1.25e6 * 8 / 1e9);
  EXPECT_EQ(plan->models[0].cpu_source, "measured");

  inputs.profiles[0].server_cpu_us_per_request.reset();
  inputs.profiles[0].levels[0].server_host_us = 30;
  plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_DOUBLE_EQ(plan->server_cpu_cores, 40 * 30e-6);
  EXPECT_EQ(plan->models[0].cpu_source, "compute input+output");
}

TEST(PlannerTest, DirectSavingIsDirectGpusOverPlannedGpus) {
  PlanInputs inputs = OneModel(1);
  inputs.workload.jobs = 10;
  inputs.workload.threads = 32;  // 320 cores, 320 events/s, 3.2 devices' worth
  inputs.direct = DirectInference{32, 0.3};
  absl::StatusOr<Plan> plan = MakePlan(inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->gpus, 4);
  EXPECT_EQ(plan->direct->gpus, 10);
  EXPECT_DOUBLE_EQ(plan->direct->utilization, 0.32);
  EXPECT_DOUBLE_EQ(*plan->direct->measured_utilization, 0.3);
  EXPECT_DOUBLE_EQ(plan->direct->saving, 2.5);
  EXPECT_DOUBLE_EQ(plan->jobs_per_server_at_saturation, 1 / 0.32);
  EXPECT_DOUBLE_EQ(plan->jobs_per_server, 2.5);
}

}  // namespace
}  // namespace sonic::tools
