#include "server/http_listener/httplib_listener.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace sonic::server {

HttplibListener::HttplibListener(std::unique_ptr<httplib::Server> http, int port)
    : http_(std::move(http)), port_(port) {}

absl::StatusOr<std::unique_ptr<HttplibListener>> HttplibListener::Start(
    std::unique_ptr<httplib::Server> http, const std::string& address, int port,
    std::string_view endpoint, bool reuse_port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(endpoint), " port ", port, " is outside 0..65535"));
  }
  http->set_socket_options([reuse_port](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (reuse_port) setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
  });
  int bound = port;
  if (bound == 0) {
    bound = http->bind_to_any_port(address);
  } else if (!http->bind_to_port(address, bound)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind the ", std::string(endpoint), " to ",
                                               address, ":", port, " (address in use?)"));
  }
  std::unique_ptr<HttplibListener> listener(new HttplibListener(std::move(http), bound));
  HttplibListener* raw = listener.get();
  listener->listener_ = std::thread([raw] {
    raw->http_->listen_after_bind();
    raw->listener_exited_ = true;
  });
  // httplib's stop() only takes effect once its accept loop runs.
  while (!raw->http_->is_running() && !raw->listener_exited_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return listener;
}

void HttplibListener::Stop() {
  if (!listener_.joinable()) return;
  http_->stop();
  listener_.join();
}

HttplibListener::~HttplibListener() { Stop(); }

}  // namespace sonic::server
