// A small process that removes a directory when this process dies without having removed it
// itself: the fallback server's temporary folder (model links, log) must not outlive a job that
// was killed (SIGKILL, or SIGTERM without a handler), as no destructor runs then.
//
// The watchdog is /bin/sh reading a pipe whose only writer is this process: when this process
// dies the kernel closes the pipe, the read sees end-of-file, and the shell runs `rm -rf DIR`.
// Disarm() writes a line instead, and the shell exits leaving the directory alone. The watchdog
// runs in a session of its own, so a signal sent to the job's process group (Ctrl-C) does not
// stop it, and its stdin is the pipe and its stdout and stderr /dev/null.
//
// Thread-safety: Start() from any thread; Disarm() and the destructor not concurrently.
// Internal to the service.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>

#include "absl/status/statusor.h"

namespace sonic::service::internal {

class DirectoryWatchdog {
 public:
  // Starts the watchdog for `directory`. INTERNAL when the pipe or the process cannot be made.
  static absl::StatusOr<std::unique_ptr<DirectoryWatchdog>> Start(
      const std::filesystem::path& directory);
  // Disarms.
  ~DirectoryWatchdog();
  DirectoryWatchdog(const DirectoryWatchdog&) = delete;
  DirectoryWatchdog& operator=(const DirectoryWatchdog&) = delete;

  pid_t pid() const { return pid_; }
  // Tells the watchdog to exit without removing anything, and reaps it. Idempotent; blocks until
  // the shell has exited (it does at once).
  void Disarm();

 private:
  DirectoryWatchdog(pid_t pid, int write_fd) : pid_(pid), write_fd_(write_fd) {}

  pid_t pid_;
  int write_fd_;
};

}  // namespace sonic::service::internal
