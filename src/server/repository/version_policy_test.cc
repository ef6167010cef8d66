#include "server/repository/version_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sonic::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

inference::ModelVersionPolicy Latest(uint32_t n) {
  inference::ModelVersionPolicy policy;
  policy.mutable_latest()->set_num_versions(n);
  return policy;
}

TEST(SelectVersionsTest, LatestTakesTheHighest) {
  EXPECT_THAT(SelectVersions(Latest(1), {3, 10, 2}), ElementsAre(10));
  EXPECT_THAT(SelectVersions(Latest(2), {3, 10, 2}), ElementsAre(3, 10));
  EXPECT_THAT(SelectVersions(Latest(5), {3, 10, 2}), ElementsAre(2, 3, 10));
  EXPECT_THAT(SelectVersions(Latest(2), {}), IsEmpty());
}

TEST(SelectVersionsTest, NoPolicyMeansLatestOne) {
  EXPECT_THAT(SelectVersions(inference::ModelVersionPolicy(), {1, 7, 4}), ElementsAre(7));
}

TEST(SelectVersionsTest, AllTakesEverySortedAndUnique) {
  inference::ModelVersionPolicy policy;
  policy.mutable_all();
  EXPECT_THAT(SelectVersions(policy, {5, 1, 3, 1}), ElementsAre(1, 3, 5));
}

TEST(SelectVersionsTest, SpecificTakesTheListedOnesThatExist) {
  inference::ModelVersionPolicy policy;
  policy.mutable_specific()->add_versions(4);
  policy.mutable_specific()->add_versions(1);
  policy.mutable_specific()->add_versions(9);
  EXPECT_THAT(SelectVersions(policy, {1, 2, 3, 4}), ElementsAre(1, 4));
  EXPECT_THAT(SelectVersions(policy, {2, 3}), IsEmpty());
}

}  // namespace
}  // namespace sonic::server
