#include "byte_counting_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sonic::bench {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// A connected socket to 127.0.0.1:`port`, or -1.
int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in address = Loopback(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// gRPC turns Nagle off on its own sockets; the relay does too, or it would add its own delays.
void NoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

// Copies `from` to `to` until either end closes, counting the bytes; then passes the end on.
void Pump(int from, int to, std::atomic<uint64_t>& count) {
  std::vector<char> buffer(1 << 16);
  while (true) {
    const ssize_t got = read(from, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    count += static_cast<uint64_t>(got);
    if (!WriteAll(to, buffer.data(), static_cast<size_t>(got))) break;
  }
  shutdown(to, SHUT_WR);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ByteCountingRelay>> ByteCountingRelay::Start(int target_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 64) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = strerror(errno);
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat("the relay cannot listen on 127.0.0.1: ", error));
  }
  std::unique_ptr<ByteCountingRelay> relay(
      new ByteCountingRelay(fd, ntohs(address.sin_port), target_port));
  relay->acceptor_ = std::thread([relay = relay.get()] { relay->AcceptLoop(); });
  return relay;
}

void ByteCountingRelay::AcceptLoop() {
  while (true) {
    const int client_fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client_fd < 0) {
      if (errno == EINTR && !stopping_) continue;
      return;  // stopping (the listening socket was shut down) or broken
    }
    const int server_fd = ConnectTo(target_port_);
    if (server_fd < 0) {
      close(client_fd);
      continue;
    }
    NoDelay(client_fd);
    NoDelay(server_fd);
    auto connection = std::make_unique<Connection>(Connection{client_fd, server_fd, {}, {}});
    connection->upstream = std::thread(Pump, client_fd, server_fd, std::ref(upstream_bytes_));
    connection->downstream = std::thread(Pump, server_fd, client_fd, std::ref(downstream_bytes_));
    absl::MutexLock lock(&mutex_);
    connections_.push_back(std::move(connection));
  }
}

ByteCountingRelay::~ByteCountingRelay() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  close(listen_fd_);
  absl::MutexLock lock(&mutex_);
  for (auto& connection : connections_) {
    shutdown(connection->client_fd, SHUT_RDWR);  // wakes both pumps' read()
    shutdown(connection->server_fd, SHUT_RDWR);
    connection->upstream.join();
    connection->downstream.join();
    close(connection->client_fd);
    close(connection->server_fd);
  }
}

std::string ByteCountingRelay::address() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace sonic::bench
