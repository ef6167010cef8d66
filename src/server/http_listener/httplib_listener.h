// An httplib::Server served on a thread of its own: what the metrics endpoint and the HTTP/REST
// endpoint share. Start binds without SO_REUSEPORT unless asked (httplib's default would let a
// second server share a port in use and split the requests; SO_REUSEADDR alone still allows a
// restart over TIME_WAIT sockets), starts the accept loop and returns once it runs, so that an
// early Stop is never lost.
//
// Thread-safe: port() from any thread; Stop must not run concurrently with itself or the
// destructor.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace sonic::server {

class HttplibListener {
 public:
  // Serves `http` (routes already installed) on address:port; port 0 picks a free port.
  // INVALID_ARGUMENT for a port outside 0..65535; UNAVAILABLE "cannot bind the <endpoint> to
  // ADDRESS:PORT" when the address cannot be bound (in use, or not an address of this host).
  // `reuse_port`: SO_REUSEPORT, so that servers which all set it share the port.
  static absl::StatusOr<std::unique_ptr<HttplibListener>> Start(
      std::unique_ptr<httplib::Server> http, const std::string& address, int port,
      std::string_view endpoint, bool reuse_port = false);
  // Stops first.
  ~HttplibListener();
  HttplibListener(const HttplibListener&) = delete;
  HttplibListener& operator=(const HttplibListener&) = delete;

  int port() const { return port_; }

  // Stops accepting, lets requests in progress finish and joins the server's threads.
  // Idempotent.
  void Stop();

 private:
  HttplibListener(std::unique_ptr<httplib::Server> http, int port);

  const std::unique_ptr<httplib::Server> http_;
  const int port_;
  std::atomic<bool> listener_exited_{false};
  std::thread listener_;
};

}  // namespace sonic::server
