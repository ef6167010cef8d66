// A child process forked from a thread of its own, so that PR_SET_PDEATHSIG (which fires when
// the forking *thread* exits) kills the child exactly when this object goes away or the job
// dies, never earlier because a short-lived caller thread ended. Internal to the service.
//
// Thread-safety: pid(), Running(), ExitDescription() from any thread; Stop() and the destructor
// not concurrently with each other.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sonic::service::internal {

class FallbackProcess {
 public:
  struct Spec {
    std::vector<std::string> argv;         // argv[0] is the program (a path)
    std::vector<std::string> environment;  // "NAME=value" added to (or replacing in) ours
    std::filesystem::path log_file;        // stdout and stderr, created or truncated
  };

  // Forks and execs; blocks until the child exists. INTERNAL when the log cannot be opened or
  // fork fails. An exec failure shows as an exit with code 127 and a line in the log.
  static absl::StatusOr<std::unique_ptr<FallbackProcess>> Start(const Spec& spec,
                                                               absl::Duration stop_grace);
  ~FallbackProcess();

  pid_t pid() const { return pid_; }
  bool Running() const;
  // "exit code N" or "killed by signal N"; "running" while it runs.
  std::string ExitDescription() const;
  // Whether it has exited with status 0.
  bool ExitedCleanly() const;
  // SIGTERM, SIGKILL after the grace period, reaped. Idempotent; blocks.
  void Stop();

 private:
  FallbackProcess(absl::Duration stop_grace) : stop_grace_(stop_grace) {}
  // The owning thread: forks, then waits for Stop.
  void Run(const Spec& spec);
  // waitpid(WNOHANG) under mu_; true when the child has been reaped.
  bool ReapLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration stop_grace_;
  pid_t pid_ = -1;
  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  mutable bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  mutable int wait_status_ ABSL_GUARDED_BY(mu_) = 0;
  std::string error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace sonic::service::internal
