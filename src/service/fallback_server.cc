#include "sonic/service/fallback_server.h"

#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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
                                     const std::filesystem::path& repository,
                                     const std::filesystem::path& log, int port) {
  if (!config.launch_command.empty()) {
    const std::string command =
        absl::StrReplaceAll(config.launch_command, {{"{port}", absl::StrCat(port)},
                                                    {"{repository}", repository.string()},
                                                    {"{log_verbose}", config.verbose ? "1" : "0"},
                                                    {"{log}", log.string()}});
    return {"/bin/sh", "-c", "exec " + command};
  }
  std::vector<std::string> argv = {binary.string(),
                                   "--model-repository",
                                   repository.string(),
                                   "--model-control-mode",
                                   "explicit",
                                   "--grpc-address",
                                   "127.0.0.1",
                                   "--grpc-port",
                                   "0",
                                   "--allow-metrics=false",
                                   "--allow-http=false",
                                   "--exit-on-error=false"};
  if (config.verbose) argv.insert(argv.end(), {"--log-verbose", "1"});
  return argv;
}

// Where the temporary folder goes: `temp_dir`, else $TMPDIR, else /tmp.
std::filesystem::path TemporaryBase(const FallbackConfig& config) {
  if (!config.temp_dir.empty()) return config.temp_dir;
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp) return tmp;
  return "/tmp";
}

// "state S: reason" for a model the index shows not READY; "" for READY.
std::string IndexReason(const std::vector<internal::ModelIndexEntry>& index,
                        const std::string& name, const absl::Status& loaded) {
  for (const internal::ModelIndexEntry& entry : index) {
    if (entry.name != name) continue;
    if (entry.state == "READY") return "";
    if (entry.state.empty() && loaded.ok()) return "";  // servers that leave the state out
    const std::string reason = entry.reason.empty() ? std::string(loaded.message()) : entry.reason;
    return absl::StrCat("state ", entry.state.empty() ? "unknown" : entry.state,
                        reason.empty() ? "" : ": ", reason);
  }
  if (!loaded.ok()) return absl::StrCat("load failed: ", loaded.message());
  return "it is not in the fallback's repository index";
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
  return absl::FailedPreconditionError(
      absl::StrCat("fallback server: no sonic-server binary (looked at ", looked,
                   "; set fallback.binary or ", kServerBinaryEnv, ")"));
}

absl::Status FallbackServer::MakeDirectory(const FallbackConfig& config) {
  const std::filesystem::path base = TemporaryBase(config);
  std::error_code error;
  std::filesystem::create_directories(base, error);
  std::string pattern = (base / "sonic-fallback-XXXXXX").string();
  if (error || mkdtemp(pattern.data()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("fallback server: cannot create a temporary folder in ", base.string(), ": ",
                     error ? error.message() : std::strerror(errno)));
  }
  dir_ = pattern;
  repository_ = dir_ / "models";
  std::filesystem::create_directories(repository_, error);
  if (config.debug) return absl::OkStatus();
  // Without a watchdog (no process could be made) only the destructor removes the folder.
  absl::StatusOr<std::unique_ptr<internal::DirectoryWatchdog>> watchdog =
      internal::DirectoryWatchdog::Start(dir_);
  if (watchdog.ok()) watchdog_ = *std::move(watchdog);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FallbackServer>> FallbackServer::Start(const Options& options,
                                                                      LoadResults* results) {
  std::filesystem::path binary;
  if (options.config.launch_command.empty()) {
    SONIC_ASSIGN_OR_RETURN(binary, FindServerBinary(options.config));
  }
  std::unique_ptr<FallbackServer> server(new FallbackServer());
  server->config_ = options.config;
  SONIC_RETURN_IF_ERROR(server->MakeDirectory(options.config));
  server->uses_gpu_ = options.config.device == FallbackDevice::kGpu ||
                      (options.config.device == FallbackDevice::kAuto && GpuVisible());
  // Written before the start, so that a launched server not in explicit mode loads them too.
  SONIC_RETURN_IF_ERROR(server->Write(options.models));
  absl::Status last;
  for (int attempt = 0; attempt < std::max(1, options.config.start_attempts); ++attempt) {
    last = server->Launch(options.config, binary, attempt);
    if (last.ok()) break;
  }
  SONIC_RETURN_IF_ERROR(last);
  if (options.models.empty()) return server;
  SONIC_ASSIGN_OR_RETURN(LoadResults loaded, server->LoadWritten(options.models));
  if (results != nullptr) *results = std::move(loaded);
  return server;
}

absl::Status FallbackServer::Write(const std::vector<ModelDeclaration>& models) {
  const int cores = config_.cpu_cores > 0 ? config_.cpu_cores : AvailableCores();
  SONIC_ASSIGN_OR_RETURN(internal::WrittenModels written,
                         internal::WriteFallbackRepository(repository_, models, cores, instances_));
  instances_ += written.instances;
  threads_per_instance_ = written.threads_per_instance;
  return absl::OkStatus();
}

absl::StatusOr<FallbackServer::LoadResults> FallbackServer::Load(
    const std::vector<ModelDeclaration>& models) {
  SONIC_RETURN_IF_ERROR(Write(models));
  return LoadWritten(models);
}

absl::StatusOr<FallbackServer::LoadResults> FallbackServer::LoadWritten(
    const std::vector<ModelDeclaration>& models) {
  ServerConfig server;
  server.name = "fallback";
  server.address = address_;
  std::map<std::string, absl::Status> loads;
  for (const ModelDeclaration& model : models) {
    loads[model.name] = internal::LoadModel(server, model.name, config_.startup_timeout);
  }
  SONIC_ASSIGN_OR_RETURN(std::vector<internal::ModelIndexEntry> index,
                         internal::ModelIndex(server, absl::Seconds(10)));
  LoadResults results;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, loaded] : loads) {
    results[name] = IndexReason(index, name, loaded);
    if (!results[name].empty()) continue;
    if (std::find(model_names_.begin(), model_names_.end(), name) == model_names_.end()) {
      model_names_.push_back(name);
    }
  }
  return results;
}

absl::Status FallbackServer::Launch(const FallbackConfig& config,
                                    const std::filesystem::path& binary, int attempt) {
  int port = config.launch_command.empty() ? 0 : FreePort();
  internal::FallbackProcess::Spec spec;
  spec.log_file = dir_ / absl::StrCat("server-", attempt, ".log");
  spec.argv = CommandLine(config, binary, repository_, spec.log_file, port);
  if (!uses_gpu_) spec.environment.push_back("CUDA_VISIBLE_DEVICES=");
  log_file_ = spec.log_file;
  process_.reset();
  detached_ = false;
  SONIC_ASSIGN_OR_RETURN(process_, internal::FallbackProcess::Start(spec, config.stop_grace));
  const absl::Time deadline = absl::Now() + config.startup_timeout;
  while (absl::Now() < deadline) {
    if (!detached_ && !process_->Running()) {
      // A launcher that returned with status 0 has started the server elsewhere: wait for it.
      detached_ = !config.launch_command.empty() && process_->ExitedCleanly();
      if (!detached_) {
        return absl::UnavailableError(absl::StrCat("fallback server exited during startup (",
                                                   process_->ExitDescription(), "); its log:\n",
                                                   Log()));
      }
    }
    if (port == 0) port = ListeningPort(Log());
    if (port != 0) {
      address_ = absl::StrCat("127.0.0.1:", port);
      if (internal::ServerIsReady(address_, absl::Seconds(1))) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  process_->Stop();
  return absl::UnavailableError(absl::StrCat(
      "fallback server not ready within ", absl::FormatDuration(config.startup_timeout),
      detached_ ? " (its launcher returned)" : "", "; its log:\n", Log()));
}

FallbackServer::~FallbackServer() {
  Stop();
  std::error_code error;
  if (!config_.debug) std::filesystem::remove_all(dir_, error);
  watchdog_.reset();
}

pid_t FallbackServer::pid() const { return process_ && !detached_ ? process_->pid() : -1; }

std::vector<std::string> FallbackServer::model_names() const {
  absl::MutexLock lock(&mu_);
  return model_names_;
}

std::string FallbackServer::Log() const { return ReadFile(log_file_); }

bool FallbackServer::Running() const {
  if (detached_) return internal::ServerIsReady(address_, absl::Seconds(1));
  return process_ && process_->Running();
}

void FallbackServer::Stop() {
  if (process_) process_->Stop();
}

}  // namespace sonic::service
