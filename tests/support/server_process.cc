#include "server_process.h"

#include <algorithm>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sonic::testing {
namespace {

constexpr std::string_view kListening = "sonic-server: listening on ";
constexpr std::string_view kMetrics = "sonic-server: metrics on ";
constexpr std::string_view kHttp = "sonic-server: http on ";

int PollMillis(absl::Duration remaining) {
  if (remaining <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(remaining) + 1, 1000));
}

absl::StatusOr<std::filesystem::path> ResolveBinary(const std::filesystem::path& given) {
  std::filesystem::path binary = given;
  if (binary.empty()) {
    const char* build_dir = std::getenv("SONIC_BUILD_DIR");
    if (build_dir == nullptr || *build_dir == '\0') {
      return absl::FailedPreconditionError(
          "SONIC_BUILD_DIR is not set and no server binary was given (run the test through "
          "ctest, or set SONIC_BUILD_DIR to the build directory)");
    }
    binary = std::filesystem::path(build_dir) / "bin" / "sonic-server";
  }
  std::error_code error;
  if (!std::filesystem::is_regular_file(binary, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no server binary at ", binary.string(), " (build the sonic-server target)"));
  }
  return binary;
}

// The port of a "<prefix>ADDRESS:PORT" line (prefix kListening or kMetrics), or 0 for any other
// line.
int ListeningPort(std::string_view line, std::string_view prefix = kListening) {
  size_t at = line.find(prefix);
  if (at == std::string_view::npos) return 0;
  size_t colon = line.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos || colon < at + prefix.size() ||
      !absl::SimpleAtoi(std::string(line.substr(colon + 1)), &port)) {
    return 0;
  }
  return port;
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecServer(pid_t parent, int stdout_fd, int stderr_fd, char* const argv[]) {
  // The server dies with the test's thread that started it, even if the test crashes.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  dup2(stdout_fd, STDOUT_FILENO);       // dup2 clears FD_CLOEXEC on the copies
  dup2(stderr_fd, STDERR_FILENO);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  execv(argv[0], argv);
  const char message[] = "server_process: execv failed\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
  _exit(127);
}

// Whether `args` turn an endpoint off (`flag`=false, or `flag` false / 0), e.g. --allow-metrics.
bool EndpointDisabled(const std::vector<std::string>& args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag + "=false" || args[i] == flag + "=0") return true;
    if (args[i] == flag && i + 1 < args.size() &&
        (args[i + 1] == "false" || args[i + 1] == "0")) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TempDirectory>> TempDirectory::Create(std::string_view prefix) {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string pattern = (base / (std::string(prefix) + "_XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<TempDirectory>(new TempDirectory(pattern));
}

TempDirectory::~TempDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ServerProcess::ServerProcess(pid_t pid, int stdout_fd, std::unique_ptr<TempDirectory> log_dir)
    : pid_(pid), stdout_fd_(stdout_fd), log_dir_(std::move(log_dir)) {}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const Options& options) {
  absl::StatusOr<std::filesystem::path> binary = ResolveBinary(options.binary);
  if (!binary.ok()) return binary.status();
  absl::StatusOr<std::unique_ptr<TempDirectory>> log_dir = TempDirectory::Create("sonic_server");
  if (!log_dir.ok()) return log_dir.status();
  const std::filesystem::path log_file = (*log_dir)->path() / "stderr.log";

  std::vector<std::string> args = {binary->string()};
  args.insert(args.end(), options.args.begin(), options.args.end());
  const auto set = [&options](std::string_view flag) {
    return std::any_of(options.args.begin(), options.args.end(),
                       [flag](const std::string& arg) { return arg.starts_with(flag); });
  };
  args.insert(args.end(), {"--grpc-address", "127.0.0.1"});
  for (const char* port : {"--grpc-port", "--metrics-port", "--http-port"}) {
    if (!set(port)) args.insert(args.end(), {port, "0"});
  }
  if (!set("--exit-on-error")) args.push_back("--exit-on-error=false");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", log_file.string(), ": ", std::strerror(errno)));
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecServer(parent, pipe_fds[1], log_fd, argv.data());
  const int fork_errno = errno;
  close(pipe_fds[1]);
  close(log_fd);
  if (pid < 0) {
    close(pipe_fds[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(fork_errno)));
  }
  std::unique_ptr<ServerProcess> server(new ServerProcess(pid, pipe_fds[0], *std::move(log_dir)));
  server->expect_metrics_ = !EndpointDisabled(options.args, "--allow-metrics");
  server->expect_http_ = !EndpointDisabled(options.args, "--allow-http");
  if (absl::Status listening = server->AwaitListening(options.startup_timeout); !listening.ok()) {
    return listening;  // the destructor kills and reaps the server
  }
  server->drainer_ = std::thread([raw = server.get()] { raw->DrainStdout(); });
  return server;
}

absl::Status ServerProcess::AwaitListening(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string output;
  char buffer[4096];
  while (true) {
    const absl::Duration remaining = deadline - absl::Now();
    if (remaining <= absl::ZeroDuration()) {
      Kill();
      return absl::DeadlineExceededError(absl::StrCat("sonic-server did not listen within ",
                                                      absl::FormatDuration(timeout), "; stdout: '",
                                                      output, "'; its log:\n", Log()));
    }
    pollfd fd = {stdout_fd_, POLLIN, 0};
    int ready = poll(&fd, 1, PollMillis(remaining));
    if (ready < 0 && errno != EINTR) {
      Kill();
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (ready <= 0) continue;
    ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // stdout closed: the server has exited (or is about to)
      absl::StatusOr<int> code = Reap(absl::Now() + absl::Seconds(10));
      if (!code.ok()) Kill();
      return absl::InternalError(
          absl::StrCat("sonic-server exited before listening (exit status ",
                       code.ok() ? std::to_string(*code) : std::string("unknown"), "); stdout: '",
                       output, "'; its log:\n", Log()));
    }
    output.append(buffer, static_cast<size_t>(n));
    size_t line_start = 0;
    for (size_t end = output.find('\n'); end != std::string::npos;
         end = output.find('\n', line_start)) {
      const std::string_view line = std::string_view(output).substr(line_start, end - line_start);
      if (port_ == 0) port_ = ListeningPort(line);
      if (metrics_port_ == 0) metrics_port_ = ListeningPort(line, kMetrics);
      if (http_port_ == 0) http_port_ = ListeningPort(line, kHttp);
      if (port_ > 0 && (metrics_port_ > 0 || !expect_metrics_) &&
          (http_port_ > 0 || !expect_http_)) {
        return absl::OkStatus();
      }
      line_start = end + 1;
    }
  }
}

void ServerProcess::DrainStdout() {
  char buffer[4096];
  while (!stop_draining_.load()) {
    pollfd fd = {stdout_fd_, POLLIN, 0};
    int ready = poll(&fd, 1, 100);
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;
    ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

bool ServerProcess::Freeze() {
  kill(pid_, SIGSTOP);
  const std::string stat_path = absl::StrCat("/proc/", pid_, "/stat");
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat(stat_path);
    std::string line;
    std::getline(stat, line);
    // The state follows the command name, which is in parentheses.
    const size_t name_end = line.rfind(')');
    if (name_end != std::string::npos && name_end + 2 < line.size() &&
        (line[name_end + 2] == 'T' || line[name_end + 2] == 't')) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

void ServerProcess::Resume() { kill(pid_, SIGCONT); }

std::string ServerProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string ServerProcess::Log() const {
  std::ifstream file(log_dir_->path() / "stderr.log", std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

absl::StatusOr<int> ServerProcess::Reap(absl::Time deadline) {
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return WEXITSTATUS(status);
    }
    if (done < 0 && errno != EINTR) {
      reaped_ = true;  // not our child any more (ECHILD): nothing left to reap
      return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("sonic-server is still running");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

void ServerProcess::Kill() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  Reap(absl::InfiniteFuture()).IgnoreError();
}

absl::StatusOr<int> ServerProcess::Stop(int signal, absl::Duration timeout) {
  if (reaped_) return absl::FailedPreconditionError("sonic-server was already stopped");
  if (kill(pid_, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill: ", std::strerror(errno)));
  }
  absl::StatusOr<int> code = Reap(absl::Now() + timeout);
  if (absl::IsDeadlineExceeded(code.status())) {
    Kill();
    return absl::DeadlineExceededError(absl::StrCat("sonic-server did not exit within ",
                                                    absl::FormatDuration(timeout), " of signal ",
                                                    signal, " (killed); its log:\n", Log()));
  }
  return code;
}

ServerProcess::~ServerProcess() {
  Kill();
  stop_draining_ = true;
  if (drainer_.joinable()) drainer_.join();
  close(stdout_fd_);
}

}  // namespace sonic::testing
