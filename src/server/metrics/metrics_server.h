// The HTTP endpoint of the Prometheus metrics: GET /metrics answers the text exposition format
// (HEAD too); any other path is 404, another method on /metrics 405.
//
// One thread serves every connection with non-blocking sockets (epoll), so a client that sends
// its request or reads its answer slowly holds only its buffers, never a thread: many slow
// clients at once do not delay a scrape. Connections are bounded (Options::max_connections):
// when full, the connection that has waited longest for its request is closed to take the new
// one, so that a scraper, which sends its request at once, always gets in. A request head must
// arrive within request_timeout (of connecting, or of the previous answer on a kept-alive
// connection) and be at most 8 KiB (else 431); an answer must be taken within
// response_timeout. Past a timeout the connection is closed.
//
// Scrapes run on the serving thread, one at a time. port() may be called from any thread at any
// time; Stop must not run concurrently with another Stop or the destructor, nor from inside a
// ScrapeFunction.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sonic::server::metrics {

class MetricsServer {
 public:
  // Decides whether a request may read the metrics, told its Authorization header ("" when
  // none) and whether it came over loopback. UNAUTHENTICATED is answered 401 (with
  // WWW-Authenticate: Bearer), any other error 403.
  using Authorizer = std::function<absl::Status(std::string_view authorization, bool local)>;

  struct Options {
    std::string address = "0.0.0.0";
    int port = 8002;  // 0 picks a free port; port() tells which
    size_t max_connections = 256;
    absl::Duration request_timeout = absl::Seconds(10);
    absl::Duration response_timeout = absl::Seconds(30);
    // Empty: every request may read the metrics.
    Authorizer authorize;
  };
  // Returns the exposition text for one scrape. Called on the server's thread.
  using ScrapeFunction = std::function<std::string()>;

  // Binds and starts serving before it returns. UNAVAILABLE when the address cannot be bound
  // (in use, or not an address of this host); INVALID_ARGUMENT for a port outside 0..65535 or
  // max_connections 0.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Create(const Options& options,
                                                               ScrapeFunction scrape);
  // Stops first.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

  // Closes the listening socket and every connection (an answer being written is cut) and joins
  // the thread. Idempotent.
  void Stop();

 private:
  class Loop;
  MetricsServer(std::unique_ptr<Loop> loop, int port);

  std::unique_ptr<Loop> loop_;
  const int port_;
};

}  // namespace sonic::server::metrics
