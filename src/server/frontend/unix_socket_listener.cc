#include "server/frontend/unix_socket_listener.h"

#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sonic::server {

void UnixSocketPeers::Set(int fd, uint32_t uid) {
  absl::MutexLock lock(&mutex_);
  uids_[fd] = uid;
}

std::optional<uint32_t> UnixSocketPeers::UidOf(std::string_view peer) const {
  absl::string_view rest(peer.data(), peer.size());
  int fd = -1;
  if (!absl::ConsumePrefix(&rest, "fd:") || !absl::SimpleAtoi(rest, &fd)) return std::nullopt;
  absl::MutexLock lock(&mutex_);
  auto it = uids_.find(fd);
  if (it == uids_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::unique_ptr<UnixSocketListener>> UnixSocketListener::Create(
    const std::string& path, grpc::Server* server, UnixSocketPeers* peers) {
  auto failed = [&path](std::string_view what) {
    return absl::UnavailableError(absl::StrCat(
        "Unix-domain socket '", path, "': ", std::string(what), ": ", std::strerror(errno)));
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("Unix-domain socket path '", path,
                                                   "' is empty or longer than ",
                                                   sizeof(address.sun_path) - 1, " bytes"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  struct stat existing {};
  if (lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Unix-domain socket path '", path, "' is a file that is not a socket"));
    }
    unlink(path.c_str());  // left by a server that did not stop cleanly
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed("socket");
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    absl::Status status = failed("bind");
    close(fd);
    return status;
  }
  if (chmod(path.c_str(), 0666) != 0 || listen(fd, SOMAXCONN) != 0) {
    absl::Status status = failed("listen");
    close(fd);
    unlink(path.c_str());
    return status;
  }
  std::unique_ptr<UnixSocketListener> listener(new UnixSocketListener(path, fd, server, peers));
  listener->thread_ = std::thread([raw = listener.get()] { raw->AcceptLoop(); });
  return listener;
}

void UnixSocketListener::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&ready, 1, 200) <= 0) continue;  // wakes now and then to see `stopping_`
    // Non-blocking, as gRPC's endpoints expect.
    const int connection = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0) continue;
    ucred credentials{};
    socklen_t size = sizeof(credentials);
    if (getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
      close(connection);
      continue;
    }
    peers_->Set(connection, static_cast<uint32_t>(credentials.uid));
    grpc::AddInsecureChannelFromFd(server_, connection);
  }
}

UnixSocketListener::~UnixSocketListener() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  close(fd_);
  unlink(path_.c_str());
}

}  // namespace sonic::server
