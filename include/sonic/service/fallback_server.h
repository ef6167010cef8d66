// FallbackServer: a sonic-server (or an external server from a launch command) that a job starts
// by itself on a repository of the models no server serves, and that never outlives the job.
//
// Start() builds a repository in a fresh temporary folder: one folder per model, holding a copy
// of its config.pbtxt (with INTRA_OP_THREAD_COUNT set so that the model instances together use
// no more than the job's cores, unless the config sets it) and symlinks to everything else
// (versions, files). It then starts the server, with stdout and stderr in a log file there:
//  - built-in: `<binary> --model-repository R --grpc-address 127.0.0.1 --grpc-port 0
//    --allow-metrics=false --allow-http=false`; the kernel picks the port, read back from the
//    server's "listening on" line, so no port is ever raced for;
//  - launch command: a port that was free a moment ago is filled in; when the server does not
//    come up (e.g. the port was taken meanwhile) it is started again on another port.
// and waits until ServerReady answers true. Device kCpu hides GPUs (CUDA_VISIBLE_DEVICES="").
//
// Lifetime: the destructor (and Stop) sends SIGTERM, then SIGKILL after the grace period, and
// reaps the process. If the job dies first, the kernel SIGKILLs the server: the child asks for
// PR_SET_PDEATHSIG, which fires when the *thread* that forked it exits; every FallbackServer
// therefore forks from a thread of its own that lives exactly as long as the FallbackServer, so
// it may be created from any thread (even a short-lived one). The temporary folder (with the
// log) is removed by the destructor; Log() returns the log's contents before that. If the job
// dies without running destructors (SIGKILL, or SIGTERM without a handler), a small watchdog
// process (a shell reading a socket only the job holds, in a session of its own) sees the end of
// the job and removes the folder: CMSSW's fallback launcher does the same by watching its
// parent's PID.
//
// Thread-safety: address(), pid(), Log(), Running() from any thread; Stop() and the destructor
// not concurrently with each other.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sonic/service/service_config.h"

namespace sonic::service {
namespace internal {
class DirectoryWatchdog;
class FallbackProcess;
}  // namespace internal

class FallbackServer {
 public:
  struct Options {
    FallbackConfig config;
    // The models to serve (at least one).
    std::vector<ModelDeclaration> models;
  };

  // Blocks until the server is ready, or fails: INVALID_ARGUMENT for no models or a model
  // directory without config.pbtxt; FAILED_PRECONDITION when the binary cannot be found;
  // UNAVAILABLE (retryable) when the server exits or is not ready within the startup timeout
  // after every attempt; the message then carries the server's log.
  static absl::StatusOr<std::unique_ptr<FallbackServer>> Start(const Options& options);

  ~FallbackServer();
  FallbackServer(const FallbackServer&) = delete;
  FallbackServer& operator=(const FallbackServer&) = delete;

  // "127.0.0.1:PORT".
  const std::string& address() const { return address_; }
  pid_t pid() const;
  const std::filesystem::path& repository() const { return repository_; }
  const std::vector<std::string>& model_names() const { return model_names_; }
  // The threads each model instance was given (INTRA_OP_THREAD_COUNT).
  int threads_per_instance() const { return threads_per_instance_; }
  bool uses_gpu() const { return uses_gpu_; }
  // Everything the server wrote so far (stdout and stderr).
  std::string Log() const;
  // Whether the process is still running.
  bool Running() const;

  // SIGTERM, SIGKILL after the grace period, reap. Idempotent.
  void Stop();

 private:
  FallbackServer() = default;
  // One attempt to start the server and wait until it is ready; UNAVAILABLE with the log.
  absl::Status Launch(const FallbackConfig& config, const std::filesystem::path& binary,
                      int attempt);

  std::unique_ptr<internal::FallbackProcess> process_;
  std::unique_ptr<internal::DirectoryWatchdog> watchdog_;  // removes dir_ if the job dies
  std::filesystem::path dir_;
  std::filesystem::path log_file_;
  std::filesystem::path repository_;
  std::string address_;
  std::vector<std::string> model_names_;
  int threads_per_instance_ = 1;
  bool uses_gpu_ = false;
};

// The sonic-server binary the fallback uses for `config` (see FallbackConfig::binary).
// FAILED_PRECONDITION naming the places looked at when none exists.
absl::StatusOr<std::filesystem::path> FindServerBinary(const FallbackConfig& config);

// Whether a GPU is visible to this process (/dev/nvidia0 exists).
bool GpuVisible();

// The cores this process may run on (at least 1).
int AvailableCores();

}  // namespace sonic::service
