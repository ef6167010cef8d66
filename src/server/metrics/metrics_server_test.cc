#include "server/metrics/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

namespace sonic::server::metrics {
namespace {

MetricsServer::Options Loopback(int port = 0) { return {"127.0.0.1", port}; }

TEST(MetricsServerTest, ServesTheScrapeOnAFreePort) {
  std::atomic<int> scrapes{0};
  auto server = MetricsServer::Create(Loopback(), [&] {
    ++scrapes;
    return std::string("# TYPE up gauge\nup 1\n");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "# TYPE up gauge\nup 1\n");
  EXPECT_THAT(result->get_header_value("Content-Type"), ::testing::HasSubstr("version=0.0.4"));
  EXPECT_EQ(scrapes.load(), 1);

  // Each scrape asks again: nothing is cached.
  ASSERT_TRUE(client.Get("/metrics"));
  EXPECT_EQ(scrapes.load(), 2);
}

TEST(MetricsServerTest, OtherPathsAndMethodsAreNotFound) {
  auto server = MetricsServer::Create(Loopback(), [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  for (const char* path : {"/", "/metric", "/metrics/extra", "/v2/health/ready"}) {
    httplib::Result result = client.Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path;
  }
  httplib::Result post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
}

TEST(MetricsServerTest, PortInUseIsUnavailable) {
  auto first = MetricsServer::Create(Loopback(), [] { return std::string(); });
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsServer::Create(Loopback((*first)->port()), [] { return std::string(); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST(MetricsServerTest, BadPortIsInvalid) {
  auto server = MetricsServer::Create(Loopback(70000), [] { return std::string(); });
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetricsServerTest, StopClosesThePortAndIsIdempotent) {
  auto server = MetricsServer::Create(Loopback(), [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  {
    httplib::Client client("127.0.0.1", port);
    ASSERT_TRUE(client.Get("/metrics"));
  }
  (*server)->Stop();
  (*server)->Stop();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsServerTest, StopRightAfterCreateReturns) {
  for (int i = 0; i < 20; ++i) {
    auto server = MetricsServer::Create(Loopback(), [] { return std::string(); });
    ASSERT_TRUE(server.ok()) << server.status();
    (*server)->Stop();
  }
}

}  // namespace
}  // namespace sonic::server::metrics
