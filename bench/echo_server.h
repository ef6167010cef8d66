// The transport floor: a bare gRPC server whose only RPC (EchoService.Echo, bench/echo.proto)
// returns the bytes it was sent, with sonic-server's server options (insecure credentials,
// unlimited message sizes), in a process of its own as sonic-server is, so that a client compares
// like with like. Written with gRPC's callback API, the API a bare gRPC server is written with
// (the floor the benchmarks' targets are judged against), or, for comparison, as sonic-server
// serves (server/frontend/async_rpc.h: the async API on one completion-queue thread).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sonic::bench {

enum class EchoApi {
  kCallback,        // grpc::CallbackService
  kAsyncOneThread,  // an AsyncService's calls, all on one completion queue drained by one thread
};

// One running echo server, a forked copy of this process listening on 127.0.0.1 (free port).
// The child gets SIGKILL when the thread that started it exits, so it never outlives the
// benchmark; the destructor kills and reaps it. pid and address may be called from any thread.
class EchoServerProcess {
 public:
  // Forks and blocks until the child listens. The child runs gRPC in a copy of this process
  // without exec, so call it before this process has started any thread or used gRPC (first
  // thing in a benchmark), from a thread that lives as long as the server (the main thread).
  // INTERNAL when the process cannot be created or the child cannot listen.
  static absl::StatusOr<std::unique_ptr<EchoServerProcess>> Start(
      EchoApi api = EchoApi::kCallback);

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
