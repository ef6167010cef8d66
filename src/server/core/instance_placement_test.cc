#include "server/core/instance_placement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "google/protobuf/text_format.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

// A normalized config named "m" with the given instance groups (text format).
inference::ModelConfig WithGroups(const std::string& groups) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString("name: 'm' " + groups, &config));
  for (int i = 0; i < config.instance_group_size(); ++i) {
    auto& group = *config.mutable_instance_group(i);
    if (group.count() == 0) group.set_count(1);
    if (group.name().empty()) group.set_name("m_" + std::to_string(i));
  }
  return config;
}

std::string Describe(const std::vector<InstancePlacement>& placements) {
  std::string text;
  for (const InstancePlacement& p : placements) {
    text += p.name + (p.kind == SONIC_BACKEND_INSTANCE_GPU ? "@gpu" : "@cpu") +
            std::to_string(p.device_id) + (p.cpu_fallback ? "?" : "") + " ";
  }
  return text;
}

TEST(InstancePlacementTest, CpuGroupsGiveCountCpuInstances) {
  auto placed = PlaceInstances(WithGroups("instance_group { kind: KIND_CPU count: 3 }"), 2);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(Describe(*placed), "m_0_0@cpu-1 m_0_1@cpu-1 m_0_2@cpu-1 ");
}

TEST(InstancePlacementTest, GpuGroupsGiveCountInstancesPerListedGpu) {
  auto placed = PlaceInstances(
      WithGroups("instance_group { name: 'g' kind: KIND_GPU count: 2 gpus: [ 1, 3 ] }"), 4);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(Describe(*placed), "g_0@gpu1 g_1@gpu1 g_2@gpu3 g_3@gpu3 ");
}

TEST(InstancePlacementTest, GpuGroupsWithoutGpusUseEveryVisibleGpu) {
  auto placed = PlaceInstances(WithGroups("instance_group { kind: KIND_GPU }"), 2);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(Describe(*placed), "m_0_0@gpu0 m_0_1@gpu1 ");
}

TEST(InstancePlacementTest, GpuGroupsNeedAVisibleGpu) {
  auto placed = PlaceInstances(WithGroups("instance_group { name: 'g' kind: KIND_GPU }"), 0);
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(placed.status().message()),
              HasSubstr("model 'm' instance_group 'g': kind KIND_GPU but no CUDA device"));
}

TEST(InstancePlacementTest, ListedGpusMustBeVisible) {
  auto placed =
      PlaceInstances(WithGroups("instance_group { kind: KIND_GPU gpus: [ 0, 1 ] }"), 1);
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(placed.status().message()),
              HasSubstr("GPU 1 does not exist; this server sees 1 GPU(s)"));
}

TEST(InstancePlacementTest, AutoIsGpuWithCpuFallbackWhenGpusAreVisible) {
  auto placed = PlaceInstances(WithGroups("instance_group { kind: KIND_AUTO count: 2 }"), 1);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(Describe(*placed), "m_0_0@gpu0? m_0_1@gpu0? ");
}

TEST(InstancePlacementTest, AutoIsCpuWithoutGpus) {
  auto placed = PlaceInstances(
      WithGroups("instance_group { kind: KIND_AUTO count: 2 gpus: [ 0 ] }"), 0);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(Describe(*placed), "m_0_0@cpu-1 m_0_1@cpu-1 ");
}

TEST(InstancePlacementTest, GroupsKeepTheirOrderAndKindModelIsUnimplemented) {
  auto placed = PlaceInstances(
      WithGroups("instance_group { name: 'a' kind: KIND_CPU } "
                 "instance_group { name: 'b' kind: KIND_GPU gpus: [ 0 ] }"),
      1);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(Describe(*placed), "a_0@cpu-1 b_0@gpu0 ");
  EXPECT_EQ(PlaceInstances(WithGroups("instance_group { kind: KIND_MODEL }"), 1).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(InstancePlacementTest, CountInstancesMatchesPlacementWithoutMakingThem) {
  const std::string groups =
      "instance_group { kind: KIND_CPU count: 3 } instance_group { kind: KIND_GPU count: 2 } "
      "instance_group { kind: KIND_AUTO count: 1 gpus: [ 1 ] }";
  for (int gpus : {1, 2, 4}) {
    SCOPED_TRACE(gpus);
    auto placed = PlaceInstances(WithGroups(groups), gpus);
    if (!placed.ok()) continue;  // GPU 1 missing with one GPU
    EXPECT_EQ(CountInstances(WithGroups(groups), gpus), placed->size());
  }
  EXPECT_EQ(CountInstances(WithGroups("instance_group { kind: KIND_AUTO count: 5 }"), 0), 5u);
  EXPECT_EQ(CountInstances(WithGroups("instance_group { count: 2147483647 } "
                                      "instance_group { count: 2147483647 }"),
                           0),
            uint64_t{2} * 2147483647);
}

}  // namespace
}  // namespace sonic::server
