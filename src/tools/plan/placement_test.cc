// Placement: every model everywhere vs split and packed by load and memory.
#include "placement.h"

#include <gtest/gtest.h>

namespace sonic::tools {
namespace {

TEST(PlacementTest, EverywhereSpreadsTheTotalLoad) {
  const Placement p = PlaceEverywhere({{1.0, 100}, {0.7, 200}, {0.1, 50}}, 0.8, 0);
  ASSERT_TRUE(p.feasible);
  EXPECT_EQ(p.devices, 3);  // 1.8 / 0.8 = 2.25
  ASSERT_EQ(p.groups.size(), 1u);
  EXPECT_EQ(p.groups[0].count, 3);
  EXPECT_DOUBLE_EQ(p.groups[0].load, 0.6);
  EXPECT_DOUBLE_EQ(p.groups[0].memory_mb, 350);
  ASSERT_EQ(p.groups[0].shares.size(), 3u);
  EXPECT_DOUBLE_EQ(p.groups[0].shares[1].fraction, 1.0 / 3);
}

TEST(PlacementTest, EverywhereNeedsEveryModelInMemory) {
  const Placement p = PlaceEverywhere({{0.1, 600}, {0.1, 600}}, 0.8, 1000);
  EXPECT_FALSE(p.feasible);
  EXPECT_NE(p.reason.find("1200 MB"), std::string::npos) << p.reason;
  EXPECT_EQ(PlaceEverywhere({{0, 10}}, 0.8, 0).devices, 1);  // no load still needs a device
}

TEST(PlacementTest, SplitFillsDevicesThenPacksRemaindersFirstFitDecreasing) {
  // Model 0: 2 full devices at 0.8 and 0.1 left; model 1: 0.5; model 2: 0.3; model 3: 0.35.
  const Placement p = PlaceSplit({{1.7, 10}, {0.5, 10}, {0.3, 10}, {0.35, 10}}, 0.8, 0);
  ASSERT_TRUE(p.feasible);
  // Remainders by decreasing load: 0.5 | 0.35 -> with 0.5? 0.85 > 0.8, new device | 0.3 -> first
  // device (0.8) | 0.1 -> second device (0.45).
  EXPECT_EQ(p.devices, 4);
  ASSERT_EQ(p.groups.size(), 3u);
  EXPECT_EQ(p.groups[0].count, 2);
  EXPECT_DOUBLE_EQ(p.groups[0].load, 0.8);
  EXPECT_DOUBLE_EQ(p.groups[0].shares[0].fraction, 0.8 / 1.7);
  EXPECT_NEAR(p.groups[1].load, 0.8, 1e-12);
  ASSERT_EQ(p.groups[1].shares.size(), 2u);
  EXPECT_EQ(p.groups[1].shares[0].model, 1u);
  EXPECT_EQ(p.groups[1].shares[1].model, 2u);
  EXPECT_NEAR(p.groups[2].load, 0.45, 1e-12);
  EXPECT_EQ(p.groups[2].shares[1].model, 0u);
  EXPECT_NEAR(p.groups[2].shares[1].fraction, 0.1 / 1.7, 1e-12);
  // Every model's fractions add up to all its requests.
  std::vector<double> total(4, 0);
  for (const DeviceGroup& g : p.groups) {
    for (const DeviceShare& s : g.shares) total[s.model] += s.fraction * g.count;
  }
  for (double t : total) EXPECT_NEAR(t, 1, 1e-12);
}

TEST(PlacementTest, SplitPacksByMemoryToo) {
  // Loads would share one device; memory keeps the big models apart.
  const Placement p = PlaceSplit({{0.2, 700}, {0.2, 700}, {0.2, 200}}, 0.8, 1000);
  ASSERT_TRUE(p.feasible);
  EXPECT_EQ(p.devices, 2);
  EXPECT_DOUBLE_EQ(p.groups[0].memory_mb, 900);
  EXPECT_DOUBLE_EQ(p.groups[1].memory_mb, 700);
  EXPECT_FALSE(PlaceSplit({{0.2, 1200}}, 0.8, 1000).feasible);
}

TEST(PlacementTest, ChoiceIsByDeviceCountWithTiesToEverywhere) {
  const std::vector<PlacementItem> items = {{0.6, 600}, {0.6, 600}};
  Placement everywhere = PlaceEverywhere(items, 0.8, 2000);
  Placement split = PlaceSplit(items, 0.8, 2000);
  EXPECT_EQ(everywhere.devices, 2);
  EXPECT_EQ(split.devices, 2);
  EXPECT_EQ(ChoosePlacement(everywhere, split).kind, PlacementKind::kEverywhere);
  everywhere = PlaceEverywhere(items, 0.8, 1000);
  split = PlaceSplit(items, 0.8, 1000);
  EXPECT_EQ(ChoosePlacement(everywhere, split).kind, PlacementKind::kSplit);
  split.devices = 1;
  everywhere = PlaceEverywhere(items, 0.8, 2000);
  EXPECT_EQ(ChoosePlacement(everywhere, split).kind, PlacementKind::kSplit);
}

}  // namespace
}  // namespace sonic::tools
