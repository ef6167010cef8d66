// The transport floor: a bare gRPC server whose only RPC (EchoService.Echo, bench/echo.proto)
// returns the bytes it was sent, built with the same gRPC callback API and server options as
// sonic-server's frontend (insecure credentials, unlimited message sizes), in a process of its
// own as sonic-server is, so that a client compares like with like.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sonic::bench {

// One running echo server, a forked copy of this process listening on 127.0.0.1 (free port).
// The child gets SIGKILL when the thread that started it exits, so it never outlives the
// benchmark; the destructor kills and reaps it. pid and address may be called from any thread.
class EchoServerProcess {
 public:
  // Forks and blocks until the child listens. The child runs gRPC in a copy of this process
  // without exec, so call it before this process has started any thread or used gRPC (first
  // thing in a benchmark), from a thread that lives as long as the server (the main thread).
  // INTERNAL when the process cannot be created or the child cannot listen.
  static absl::StatusOr<std::unique_ptr<EchoServerProcess>> Start();

  ~EchoServerProcess();
  EchoServerProcess(const EchoServerProcess&) = delete;
  EchoServerProcess& operator=(const EchoServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // "127.0.0.1:PORT".
  std::string address() const;

 private:
  EchoServerProcess(pid_t pid, int port) : pid_(pid), port_(port) {}

  const pid_t pid_;
  const int port_;
};

}  // namespace sonic::bench
