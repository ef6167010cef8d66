#include "routing.h"

#include <gtest/gtest.h>

namespace sonic::service::internal {
namespace {

std::vector<RouteCandidate> ThreeServers() {
  return {{"a", "h:1", true, true, 3, 1.0},
          {"b", "h:2", true, true, 1, 5.0},
          {"c", "h:3", true, false, 0, 0.5}};
}

TEST(ChooseServerTest, PreferredServerWhenItServesTheModel) {
  EXPECT_EQ(ChooseServer(ThreeServers(), "a", ""), 0);
}

TEST(ChooseServerTest, PreferredServerIgnoredWhenItDoesNotServeTheModel) {
  EXPECT_EQ(ChooseServer(ThreeServers(), "c", ""), 1);  // c lacks the model; b has least load
}

TEST(ChooseServerTest, LowestLoadThenLatencyThenName) {
  auto servers = ThreeServers();
  EXPECT_EQ(ChooseServer(servers, "", ""), 1);
  servers[0].load = 1;
  EXPECT_EQ(ChooseServer(servers, "", ""), 0);  // same load, lower latency
  servers[1].latency_ms = 1.0;
  servers[1].name = "0";
  EXPECT_EQ(ChooseServer(servers, "", ""), 1);  // same load and latency: first name
}

TEST(ChooseServerTest, SkipsUnhealthyAndExcluded) {
  auto servers = ThreeServers();
  servers[1].healthy = false;
  EXPECT_EQ(ChooseServer(servers, "b", ""), 0);
  EXPECT_EQ(ChooseServer(servers, "", "h:1"), -1);
}

TEST(ChooseRetryServerTest, FewestRecentFailuresThenLowestQueueTime) {
  auto servers = ThreeServers();
  servers[2].serves_model = true;
  servers[0].recent_failures = 2;
  servers[1].recent_failures = 0;
  servers[1].queue_ms = 9;
  servers[2].queue_ms = 3;
  EXPECT_EQ(ChooseRetryServer(servers, "h:9"), 2);  // b and c: no failures; c queues less
  EXPECT_EQ(ChooseRetryServer(servers, "h:3"), 1);  // never the failed server
  servers[1].healthy = false;
  EXPECT_EQ(ChooseRetryServer(servers, "h:3"), 0);  // failures rank, not exclude
  servers[0].healthy = false;
  EXPECT_EQ(ChooseRetryServer(servers, "h:3"), -1);
}

TEST(ChooseLessLoadedServerTest, StaysUnlessAnotherIsLessLoaded) {
  auto servers = ThreeServers();
  servers[0].recent_overloads = 1;
  servers[1].recent_overloads = 1;
  EXPECT_EQ(ChooseLessLoadedServer(servers, "h:1"), 0);  // a tie keeps the current server
  servers[1].recent_overloads = 0;
  EXPECT_EQ(ChooseLessLoadedServer(servers, "h:1"), 1);
  servers[1].healthy = false;
  EXPECT_EQ(ChooseLessLoadedServer(servers, "h:1"), 0);
}

}  // namespace
}  // namespace sonic::service::internal
