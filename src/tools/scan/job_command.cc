#include "job_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

extern char** environ;

namespace sonic::tools {
namespace {

absl::StatusOr<pid_t> Spawn(const JobLaunch& job) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, job.log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  for (const std::string& arg : job.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", job.argv[0], ": ", strerror(error)));
  }
  return pid;
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return 128 + WTERMSIG(wait_status);
}

// Waits for `pid` until `deadline`, then kills it.
int Reap(pid_t pid, absl::Time deadline) {
  int wait_status = 0;
  while (waitpid(pid, &wait_status, WNOHANG) == 0) {
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wait_status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return ExitCode(wait_status);
}

}  // namespace

std::vector<std::string> ExpandJobCommand(const std::vector<std::string>& command,
                                          const Placeholders& values) {
  std::vector<std::pair<std::string, std::string>> replacements(values.begin(), values.end());
  std::vector<std::string> expanded;
  for (const std::string& arg : command) {
    expanded.push_back(absl::StrReplaceAll(arg, replacements));
  }
  return expanded;
}

std::vector<std::string> ShellJobCommand(const std::string& text) {
  return {"/bin/sh", "-c", text};
}

absl::StatusOr<std::vector<int>> RunJobs(const std::vector<JobLaunch>& jobs, absl::Time deadline) {
  std::vector<pid_t> pids;
  for (const JobLaunch& job : jobs) {
    absl::StatusOr<pid_t> pid = Spawn(job);
    if (!pid.ok()) {
      for (pid_t started : pids) Reap(started, absl::InfinitePast());
      return pid.status();
    }
    pids.push_back(*pid);
  }
  std::vector<int> codes;
  for (pid_t pid : pids) codes.push_back(Reap(pid, deadline));
  return codes;
}

std::string LogTail(const std::filesystem::path& log, size_t max_bytes) {
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() <= max_bytes ? all : all.substr(all.size() - max_bytes);
}

}  // namespace sonic::tools
