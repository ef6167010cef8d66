#include "fallback_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace sonic::service::internal {
namespace {

// The environment of the child: ours with `overrides` replacing variables of the same name.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::string name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& o : overrides) replaced |= o.substr(0, o.find('=')) == name;
    if (!replaced) result.push_back(text);
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// In the child after fork: only async-signal-safe calls.
[[noreturn]] void ExecChild(int log_fd, pid_t parent, char** argv, char** envp) {
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);  // the parent died before prctl
  execve(argv[0], argv, envp);
  const char message[] = "fallback server: exec failed\n";
  (void)!write(STDERR_FILENO, message, sizeof(message) - 1);
  _exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<FallbackProcess>> FallbackProcess::Start(const Spec& spec,
                                                                        absl::Duration stop_grace) {
  std::unique_ptr<FallbackProcess> process(new FallbackProcess(stop_grace));
  process->thread_ = std::thread([p = process.get(), spec] { p->Run(spec); });
  pid_t pid = -1;
  std::string error;
  {
    absl::MutexLock lock(&process->mu_);
    process->mu_.Await(absl::Condition(&process->started_));
    pid = process->pid_;
    error = process->error_;
  }
  if (pid < 0) {
    process->Stop();
    return absl::InternalError(error);
  }
  return process;
}

void FallbackProcess::Run(const Spec& spec) {
  std::vector<std::string> argv = spec.argv;
  std::vector<std::string> env = ChildEnvironment(spec.environment);
  std::vector<char*> argv_pointers = Pointers(argv);
  std::vector<char*> env_pointers = Pointers(env);
  const int log_fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t parent = getpid();
  pid_t pid = -1;
  std::string error;
  if (log_fd < 0) {
    error = absl::StrCat("cannot open ", spec.log_file.string(), ": ", std::strerror(errno));
  } else {
    pid = fork();
    if (pid == 0) ExecChild(log_fd, parent, argv_pointers.data(), env_pointers.data());
    if (pid < 0) error = absl::StrCat("fork failed: ", std::strerror(errno));
    close(log_fd);
  }
  absl::MutexLock lock(&mu_);
  pid_ = pid;
  error_ = error;
  started_ = true;
  mu_.Await(absl::Condition(&stop_));
  if (pid_ < 0 || ReapLocked()) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + stop_grace_;
  while (!ReapLocked() && absl::Now() < deadline) {
    mu_.Unlock();
    absl::SleepFor(absl::Milliseconds(20));
    mu_.Lock();
  }
  if (!ReapLocked()) {
    kill(pid_, SIGKILL);
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_) wait_status_ = status;
    reaped_ = true;
  }
}

bool FallbackProcess::ReapLocked() const {
  if (reaped_) return true;
  int status = 0;
  const pid_t result = waitpid(pid_, &status, WNOHANG);
  if (result == pid_ || (result < 0 && errno == ECHILD)) {
    wait_status_ = status;
    reaped_ = true;
  }
  return reaped_;
}

bool FallbackProcess::Running() const {
  absl::MutexLock lock(&mu_);
  return pid_ > 0 && !ReapLocked();
}

std::string FallbackProcess::ExitDescription() const {
  absl::MutexLock lock(&mu_);
  if (!ReapLocked()) return "running";
  if (WIFSIGNALED(wait_status_)) return absl::StrCat("killed by signal ", WTERMSIG(wait_status_));
  return absl::StrCat("exit code ", WEXITSTATUS(wait_status_));
}

bool FallbackProcess::ExitedCleanly() const {
  absl::MutexLock lock(&mu_);
  return pid_ > 0 && ReapLocked() && WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0;
}

void FallbackProcess::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

FallbackProcess::~FallbackProcess() { Stop(); }

}  // namespace sonic::service::internal
