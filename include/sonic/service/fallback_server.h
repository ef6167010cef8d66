// FallbackServer: the one sonic-server (or external server from a launch command) that a job
// starts by itself for the models no server serves, and that never outlives the job. Models are
// added to it while it runs: it serves in explicit model-control mode, and Load() puts each new
// model into its repository and loads it with RepositoryModelLoad, so a job never runs a second
// fallback process for models that become unserved later.
//
// The repository is in a fresh temporary folder (in FallbackConfig::temp_dir): one folder per
// model, holding a copy of its config.pbtxt (with INTRA_OP_THREAD_COUNT set so that the model
// instances together use no more than the job's cores, unless the config sets it) and symlinks to
// everything else (versions, files). The server's stdout and stderr go to a log file there:
//  - built-in: `<binary> --model-repository R --model-control-mode explicit --grpc-address
//    127.0.0.1 --grpc-port 0 --allow-metrics=false --allow-http=false --exit-on-error=false`
//    (and `--log-verbose 1` with `verbose`); the kernel picks the port, read back from the
//    server's "listening on" line, so no port is ever raced for;
//  - launch command: a port that was free a moment ago is filled in; when the server does not
//    come up (e.g. the port was taken meanwhile) it is started again on another port. A command
//    that exits with status 0 at once (a launcher) is not an error: readiness is waited for on
//    the port. The models given to Start() are in the repository before the server starts, so
//    a server not in explicit mode serves them too; later ones need explicit mode.
// Start() waits until ServerLive answers true. Device kCpu hides GPUs (CUDA_VISIBLE_DEVICES="").
//
// Lifetime: the destructor (and Stop) sends SIGTERM, then SIGKILL after the grace period, and
// reaps the process. If the job dies first, the kernel SIGKILLs the server: the child asks for
// PR_SET_PDEATHSIG, which fires when the *thread* that forked it exits; every FallbackServer
// therefore forks from a thread of its own that lives exactly as long as the FallbackServer, so
// it may be created from any thread (even a short-lived one). A server left running by a launcher
// that returned is not the service's child, and is neither stopped nor killed with the job. The
// temporary folder (with the log) is removed by the destructor unless `debug` is set; Log()
// returns the log's contents before that. If the job dies without running destructors (SIGKILL,
// or SIGTERM without a handler), a small watchdog process (a shell reading a socket only the job
// holds, in a session of its own) sees the end of the job and removes the folder (not with
// `debug`): CMSSW's fallback launcher does the same by watching its parent's PID.
//
// Thread-safety: address(), pid(), directory(), model_names(), Log(), Running() from any thread;
// Load(), Stop() and the destructor not concurrently with each other.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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
    // The models to load once it runs (Load); may be empty.
    std::vector<ModelDeclaration> models;
  };

  // Per model given to Load: "" when it is READY, else why not (the server's index state and
  // reason, or the load's error).
  using LoadResults = std::map<std::string, std::string>;

  // Blocks until the server is ready and has answered for `models`, or fails: INVALID_ARGUMENT
  // for a model directory without config.pbtxt or a temp_dir that cannot be made;
  // FAILED_PRECONDITION when the binary cannot be found; UNAVAILABLE (retryable) when the server
  // exits or is not ready within the startup timeout after every attempt; the message then
  // carries the server's log. `results` (optional) receives Load's results for `models`.
  static absl::StatusOr<std::unique_ptr<FallbackServer>> Start(const Options& options,
                                                               LoadResults* results = nullptr);

  // Writes `models` into the repository (a model already there is replaced) and loads each with
  // RepositoryModelLoad, then reads the repository index. Blocks (up to the startup timeout per
  // model). INVALID_ARGUMENT for a model directory without config.pbtxt; UNAVAILABLE when the
  // server does not answer.
  absl::StatusOr<LoadResults> Load(const std::vector<ModelDeclaration>& models);

  ~FallbackServer();
  FallbackServer(const FallbackServer&) = delete;
  FallbackServer& operator=(const FallbackServer&) = delete;

  // "127.0.0.1:PORT".
  const std::string& address() const { return address_; }
  // The server's process; -1 for a server a launcher left running.
  pid_t pid() const;
  // The temporary folder (repository, log).
  const std::filesystem::path& directory() const { return dir_; }
  const std::filesystem::path& repository() const { return repository_; }
  // The models it loaded (READY), in the order loaded.
  std::vector<std::string> model_names() const;
  // The threads each instance of the models loaded last was given (INTRA_OP_THREAD_COUNT).
  int threads_per_instance() const { return threads_per_instance_; }
  bool uses_gpu() const { return uses_gpu_; }
  // Whether a launch command started it and returned (the server is not this job's child).
  bool detached() const { return detached_; }
  // Everything the server (or its launcher) wrote so far (stdout and stderr).
  std::string Log() const;
  // Whether the process is still running; for a detached server, whether it answers ServerLive
  // (blocks up to 1 s).
  bool Running() const;

  // SIGTERM, SIGKILL after the grace period, reap. Idempotent.
  void Stop();

 private:
  FallbackServer() = default;
  // One attempt to start the server and wait until it is ready; UNAVAILABLE with the log.
  absl::Status Launch(const FallbackConfig& config, const std::filesystem::path& binary,
                      int attempt);

  // Writes `models` into the repository (WriteFallbackRepository).
  absl::Status Write(const std::vector<ModelDeclaration>& models);
  // RepositoryModelLoad of each of `models` (written already), then the repository index.
  absl::StatusOr<LoadResults> LoadWritten(const std::vector<ModelDeclaration>& models);
  // Makes the temporary folder in the configured place and its watchdog (without `debug`).
  absl::Status MakeDirectory(const FallbackConfig& config);

  FallbackConfig config_;
  std::unique_ptr<internal::FallbackProcess> process_;
  std::unique_ptr<internal::DirectoryWatchdog> watchdog_;  // removes dir_ if the job dies
  std::filesystem::path dir_;
  std::filesystem::path log_file_;
  std::filesystem::path repository_;
  std::string address_;
  mutable absl::Mutex mu_;
  std::vector<std::string> model_names_ ABSL_GUARDED_BY(mu_);
  int instances_ = 0;  // of the models written so far
  int threads_per_instance_ = 1;
  bool uses_gpu_ = false;
  bool detached_ = false;
};

// The sonic-server binary the fallback uses for `config` (see FallbackConfig::binary).
// FAILED_PRECONDITION naming the places looked at when none exists.
absl::StatusOr<std::filesystem::path> FindServerBinary(const FallbackConfig& config);

// Whether a GPU is visible to this process (/dev/nvidia0 exists).
bool GpuVisible();

// The cores this process may run on (at least 1).
int AvailableCores();

}  // namespace sonic::service
