#include "server/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <vector>

namespace sonic::server::metrics {
namespace {

MetricsServer::Options Loopback(int port = 0) {
  MetricsServer::Options options;
  options.address = "127.0.0.1";
  options.port = port;
  return options;
}

// A raw client socket, closed with the object: for clients that misbehave.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() { close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void Send(const std::string& text) {
    ASSERT_EQ(send(fd_, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
  }
  // What arrives until the server closes or `within` passes; `closed` tells which.
  std::string Receive(std::chrono::milliseconds within, bool* closed = nullptr) {
    std::string received;
    const auto end = std::chrono::steady_clock::now() + within;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      pollfd wait{fd_, POLLIN, 0};
      if (left.count() <= 0 || poll(&wait, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[65536];
      const ssize_t got = read(fd_, buffer, sizeof(buffer));
      if (got <= 0) {
        if (closed) *closed = true;
        return received;
      }
      received.append(buffer, static_cast<size_t>(got));
    }
    if (closed) *closed = false;
    return received;
  }

 private:
  const int fd_;
  bool connected_ = false;
};

constexpr char kScrapeRequest[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

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

TEST(MetricsServerTest, ManySlowClientsDoNotDelayAScrape) {
  auto server = MetricsServer::Create(Loopback(), [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  // 64 clients that send half a request and stall (the old endpoint had 2 threads: two such
  // clients held every scrape for their read timeout).
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(std::make_unique<RawClient>((*server)->port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send("GET /metr");
  }
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(5);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "up 1\n");
  // The slow ones are served as well once their requests are complete.
  slow.front()->Send("ics HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(
      slow.front()->Receive(std::chrono::seconds(5)),
      ::testing::AllOf(::testing::StartsWith("HTTP/1.1 200"), ::testing::EndsWith("up 1\n")));
}

TEST(MetricsServerTest, ClientsThatNeverReadDoNotDelayAScrape) {
  const std::string large(4 << 20, 'x');
  auto server = MetricsServer::Create(Loopback(), [&] { return large; });
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::unique_ptr<RawClient>> stuck;
  for (int i = 0; i < 4; ++i) {
    stuck.push_back(std::make_unique<RawClient>((*server)->port()));
    stuck.back()->Send(kScrapeRequest);
  }
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(10);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->body.size(), large.size());
}

TEST(MetricsServerTest, AtTheConnectionBoundTheLongestWaitingIsClosed) {
  MetricsServer::Options options = Loopback();
  options.max_connections = 4;
  auto server = MetricsServer::Create(options, [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 12; ++i) {
    idle.push_back(std::make_unique<RawClient>((*server)->port()));
  }
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(5);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  // The first idle connection was evicted: the server closed it.
  bool closed = false;
  idle.front()->Receive(std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed);
}

TEST(MetricsServerTest, AStalledRequestIsClosedAfterTheTimeout) {
  MetricsServer::Options options = Loopback();
  options.request_timeout = absl::Milliseconds(100);
  auto server = MetricsServer::Create(options, [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  RawClient stalled((*server)->port());
  stalled.Send("GET /metrics HTTP/1.1\r\n");
  bool closed = false;
  EXPECT_EQ(stalled.Receive(std::chrono::seconds(10), &closed), "");
  EXPECT_TRUE(closed);
}

TEST(MetricsServerTest, OversizedHeadKeepAliveAndPipelining) {
  auto server = MetricsServer::Create(Loopback(), [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  {
    RawClient client((*server)->port());
    client.Send("GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'a'));
    EXPECT_THAT(client.Receive(std::chrono::seconds(5)), ::testing::StartsWith("HTTP/1.1 431"));
  }
  {
    RawClient client((*server)->port());
    client.Send("garbage\r\n\r\n");
    EXPECT_THAT(client.Receive(std::chrono::seconds(5)), ::testing::StartsWith("HTTP/1.1 400"));
  }
  RawClient client((*server)->port());
  client.Send(std::string(kScrapeRequest) + "HEAD /metrics HTTP/1.1\r\n\r\n" +
              "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
  bool closed = false;
  const std::string answers = client.Receive(std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed);
  size_t count = 0;
  for (size_t at = answers.find("HTTP/1.1 200"); at != std::string::npos;
       at = answers.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u) << answers;
}

TEST(MetricsServerTest, TheAuthorizerDecides) {
  MetricsServer::Options options = Loopback();
  options.authorize = [](std::string_view authorization, bool local) -> absl::Status {
    EXPECT_TRUE(local);
    if (authorization.empty()) return absl::UnauthenticatedError("token needed");
    if (authorization != "Bearer good") return absl::PermissionDeniedError("scope missing");
    return absl::OkStatus();
  };
  auto server = MetricsServer::Create(options, [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result none = client.Get("/metrics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  httplib::Result wrong = client.Get("/metrics", {{"Authorization", "Bearer bad"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  httplib::Result good = client.Get("/metrics", {{"Authorization", "Bearer good"}});
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(good->body, "up 1\n");
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
