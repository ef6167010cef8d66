// The HTTP endpoint of the Prometheus metrics: GET /metrics answers the text exposition format
// (HEAD too); any other path or method is 404.
//
// Serves on its own threads (one listener, a small pool for connections). port() may be called
// from any thread at any time; Stop must not run concurrently with another Stop or the
// destructor, nor from inside a ScrapeFunction.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/http_listener/httplib_listener.h"

namespace sonic::server::metrics {

class MetricsServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8002;  // 0 picks a free port; port() tells which
  };
  // Returns the exposition text for one scrape. Called on a server thread, possibly on two at
  // once, so it must be thread-safe (MetricsCollector::Scrape is).
  using ScrapeFunction = std::function<std::string()>;

  // Binds and starts serving before it returns. UNAVAILABLE when the address cannot be bound
  // (in use, or not an address of this host); INVALID_ARGUMENT for a port outside 0..65535.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Create(const Options& options,
                                                               ScrapeFunction scrape);
  // Stops first.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return listener_->port(); }

  // Stops accepting connections and waits for the server's threads (a scrape in progress
  // finishes; an idle kept-alive connection may hold this up to a second). Idempotent.
  void Stop();

 private:
  explicit MetricsServer(std::unique_ptr<HttplibListener> listener)
      : listener_(std::move(listener)) {}

  const std::unique_ptr<HttplibListener> listener_;
};

}  // namespace sonic::server::metrics
