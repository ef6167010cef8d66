#include "sonic/service/fallback_server.h"

#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "directory_watchdog.h"
#include "fallback_process.h"
#include "fallback_repository.h"
#include "server_probe.h"
#include "sonic/common/status.h"

namespace sonic::service {
namespace {

constexpr char kListening[] = "sonic-server: listening on ";

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The port of the server's "listening on ADDRESS:PORT" line in `log`; 0 when not there yet.
int ListeningPort(const std::string& log) {
  const size_t at = log.find(kListening);
  if (at == std::string::npos) return 0;
  const size_t end = log.find('\n', at);
  if (end == std::string::npos) return 0;
  const std::string line = log.substr(at, end - at);
  return std::atoi(line.substr(line.rfind(':') + 1).c_str());
}

// A loopback port nobody listens on right now (the kernel's choice for a bound socket).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::vector<std::string> CommandLine(const FallbackConfig& config,
                                     const std::filesystem::path& binary,
                                     const std::filesystem::path& repository, int port) {
  if (!config.launch_command.empty()) {
    const std::string command =
        absl::StrReplaceAll(config.launch_command, {{"{port}", absl::StrCat(port)},
                                                    {"{repository}", repository.string()}});
    return {"/bin/sh", "-c", "exec " + command};
  }
  return {binary.string(), "--model-repository", repository.string(), "--grpc-address",
          "127.0.0.1", "--grpc-port", "0", "--allow-metrics=false", "--allow-http=false",
          "--exit-on-error=false"};
}

}  // namespace

bool GpuVisible() { return std::filesystem::exists("/dev/nvidia0"); }

int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
}

absl::StatusOr<std::filesystem::path> FindServerBinary(const FallbackConfig& config) {
  std::vector<std::filesystem::path> candidates;
  if (!config.binary.empty()) {
    candidates.push_back(config.binary);
  } else if (const char* env = std::getenv(kServerBinaryEnv); env != nullptr && *env) {
    candidates.push_back(env);
  } else {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error).parent_path();
    candidates.push_back(self / "sonic-server");
    candidates.push_back(self.parent_path() / "bin" / "sonic-server");
  }
  std::string looked;
  for (const auto& candidate : candidates) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    absl::StrAppend(&looked, looked.empty() ? "" : ", ", candidate.string());
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "fallback server: no sonic-server binary (looked at ", looked, "; set fallback.binary or ",
      kServerBinaryEnv, ")"));
}

absl::StatusOr<std::unique_ptr<FallbackServer>> FallbackServer::Start(const Options& options) {
  if (options.models.empty()) {
    return absl::InvalidArgumentError("fallback server: no models to serve");
  }
  std::filesystem::path binary;
  if (options.config.launch_command.empty()) {
    SONIC_ASSIGN_OR_RETURN(binary, FindServerBinary(options.config));
  }
  std::unique_ptr<FallbackServer> server(new FallbackServer());
  char dir_template[] = "/tmp/sonic-fallback-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::InternalError("fallback server: cannot create a temporary folder");
  }
  server->dir_ = dir_template;
  // Without a watchdog (no process could be made) only the destructor removes the folder.
  absl::StatusOr<std::unique_ptr<internal::DirectoryWatchdog>> watchdog =
      internal::DirectoryWatchdog::Start(server->dir_);
  if (watchdog.ok()) server->watchdog_ = *std::move(watchdog);
  server->repository_ = server->dir_ / "models";
  const int cores = options.config.cpu_cores > 0 ? options.config.cpu_cores : AvailableCores();
  SONIC_ASSIGN_OR_RETURN(server->threads_per_instance_,
                         internal::WriteFallbackRepository(server->repository_, options.models,
                                                           cores));
  for (const auto& model : options.models) server->model_names_.push_back(model.name);
  server->uses_gpu_ = options.config.device == FallbackDevice::kGpu ||
                      (options.config.device == FallbackDevice::kAuto && GpuVisible());
  absl::Status last;
  for (int attempt = 0; attempt < std::max(1, options.config.start_attempts); ++attempt) {
    last = server->Launch(options.config, binary, attempt);
    if (last.ok()) return server;
  }
  return last;
}

absl::Status FallbackServer::Launch(const FallbackConfig& config,
                                    const std::filesystem::path& binary, int attempt) {
  int port = config.launch_command.empty() ? 0 : FreePort();
  internal::FallbackProcess::Spec spec;
  spec.argv = CommandLine(config, binary, repository_, port);
  spec.log_file = dir_ / absl::StrCat("server-", attempt, ".log");
  if (!uses_gpu_) spec.environment.push_back("CUDA_VISIBLE_DEVICES=");
  log_file_ = spec.log_file;
  process_.reset();
  SONIC_ASSIGN_OR_RETURN(process_, internal::FallbackProcess::Start(spec, config.stop_grace));
  const absl::Time deadline = absl::Now() + config.startup_timeout;
  while (absl::Now() < deadline) {
    if (!process_->Running()) {
      return absl::UnavailableError(absl::StrCat("fallback server exited during startup (",
                                                 process_->ExitDescription(), "); its log:\n",
                                                 Log()));
    }
    if (port == 0) port = ListeningPort(Log());
    if (port != 0) {
      address_ = absl::StrCat("127.0.0.1:", port);
      if (internal::ServerIsReady(address_, absl::Seconds(1))) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  process_->Stop();
  return absl::UnavailableError(absl::StrCat("fallback server not ready within ",
                                             absl::FormatDuration(config.startup_timeout),
                                             "; its log:\n", Log()));
}

FallbackServer::~FallbackServer() {
  Stop();
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
  watchdog_.reset();
}

pid_t FallbackServer::pid() const { return process_ ? process_->pid() : -1; }

std::string FallbackServer::Log() const { return ReadFile(log_file_); }

bool FallbackServer::Running() const { return process_ && process_->Running(); }

void FallbackServer::Stop() {
  if (process_) process_->Stop();
}

}  // namespace sonic::service
