#include "directory_watchdog.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sonic::service::internal {
namespace {

// A line on stdin means "keep"; end-of-file means the job is gone.
constexpr char kScript[] = "if read -r line; then exit 0; fi; exec rm -rf -- \"$1\"";

// In the child after fork: only async-signal-safe calls.
[[noreturn]] void ExecWatchdog(int job_fd, int null_fd, char** argv, char** envp) {
  setsid();
  dup2(job_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  dup2(null_fd, STDERR_FILENO);
  close_range(3, ~0U, 0);  // nothing else of the job's stays open in the watchdog
  execve(argv[0], argv, envp);
  _exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryWatchdog>> DirectoryWatchdog::Start(
    const std::filesystem::path& directory) {
  // A socket rather than a pipe: Disarm sends with MSG_NOSIGNAL, so a watchdog that died first
  // costs an error, not a SIGPIPE.
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError(absl::StrCat("directory watchdog: socketpair: ", strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  std::vector<std::string> args = {"/bin/sh", "-c", kScript, "sonic-fallback-watchdog",
                                   directory.string()};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string path = "PATH=/usr/bin:/bin";
  char* envp[] = {path.data(), nullptr};
  const pid_t pid = null_fd < 0 ? -1 : fork();
  if (pid == 0) ExecWatchdog(fds[1], null_fd, argv.data(), envp);
  const int error = errno;
  close(fds[1]);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    close(fds[0]);
    return absl::InternalError(absl::StrCat("directory watchdog: cannot start: ", strerror(error)));
  }
  return std::unique_ptr<DirectoryWatchdog>(new DirectoryWatchdog(pid, fds[0]));
}

void DirectoryWatchdog::Disarm() {
  if (write_fd_ < 0) return;
  (void)!send(write_fd_, "keep\n", 5, MSG_NOSIGNAL);
  close(write_fd_);
  write_fd_ = -1;
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

DirectoryWatchdog::~DirectoryWatchdog() { Disarm(); }

}  // namespace sonic::service::internal
