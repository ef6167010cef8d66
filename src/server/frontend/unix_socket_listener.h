// A Unix-domain socket for the gRPC server whose peers the kernel identifies: each connection's
// uid (SO_PEERCRED) is read when it is accepted, and the connection is then handed to gRPC
// (AddInsecureChannelFromFd). gRPC names such a peer "fd:<N>"; UnixSocketPeers maps that back to
// the uid, so a local client's shared memory is checked against its own user (the object must be
// its own), not against the server's list of allowed owners.
//
// gRPC's own "unix:" listener is not used because it keeps the peer's credentials to itself.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

// The uid behind each open connection of the socket, by the file descriptor gRPC serves it on.
// Thread-safe. A descriptor number is reused only after gRPC closed the connection, and the new
// connection's uid is recorded before gRPC sees it; a call still running from the closed
// connection that looks its peer up after that (it looks it up when it starts) would see the new
// uid.
class UnixSocketPeers {
 public:
  void Set(int fd, uint32_t uid);
  // The uid of gRPC's peer `peer` ("fd:<N>"), or nothing for any other peer.
  std::optional<uint32_t> UidOf(std::string_view peer) const;

 private:
  mutable absl::Mutex mutex_;
  std::map<int, uint32_t> uids_ ABSL_GUARDED_BY(mutex_);
};

// Not thread-safe (one owner starts and stops it); the accept loop runs on its own thread.
class UnixSocketListener {
 public:
  // Binds `path` (a stale socket file there is replaced; any other file is an error), makes it
  // connectable by every local user (each is checked as itself), and starts accepting
  // connections for `server`, recording their uids in `peers`. Borrows both, which must outlive
  // the listener. UNAVAILABLE when the socket cannot be made.
  static absl::StatusOr<std::unique_ptr<UnixSocketListener>> Create(const std::string& path,
                                                                    grpc::Server* server,
                                                                    UnixSocketPeers* peers);
  // Stops accepting and removes the socket file; connections already handed to gRPC end with
  // the server.
  ~UnixSocketListener();
  UnixSocketListener(const UnixSocketListener&) = delete;
  UnixSocketListener& operator=(const UnixSocketListener&) = delete;

 private:
  UnixSocketListener(std::string path, int fd, grpc::Server* server, UnixSocketPeers* peers)
      : path_(std::move(path)), fd_(fd), server_(server), peers_(peers) {}
  void AcceptLoop();

  const std::string path_;
  const int fd_;
  grpc::Server* const server_;
  UnixSocketPeers* const peers_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sonic::server
