// The real sonic-server binary as a child process of a test, listening on a free loopback port,
// and a self-removing temporary directory for the files such a test writes (model repositories,
// certificates, logs).
//
// A server started here can never outlive the test: the child asks the kernel for SIGKILL when
// the thread that started it exits (PR_SET_PDEATHSIG), so a test that crashes leaks nothing, and
// the destructor kills and reaps a server that is still running. Start servers from a thread
// that lives as long as the server (the test's main thread; not a short-lived std::thread).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sonic::testing {

// A fresh directory under the system temporary directory (mkdtemp), removed with its contents
// by the destructor. Not thread-safe; holds no state but the path.
class TempDirectory {
 public:
  // INTERNAL when the directory cannot be created.
  static absl::StatusOr<std::unique_ptr<TempDirectory>> Create(std::string_view prefix = "sonic");
  ~TempDirectory();
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// One running sonic-server. pid, port, address and Log may be called from any thread at any
// time; Stop must not run concurrently with another Stop or with the destructor.
class ServerProcess {
 public:
  struct Options {
    // Flags for the server (repository, control mode, TLS...). Start always adds
    // `--grpc-address 127.0.0.1`, and `--grpc-port 0`, `--metrics-port 0`, `--http-port 0` and
    // `--exit-on-error=false` unless `args` set them (test repositories hold models that are
    // meant to fail).
    std::vector<std::string> args;
    // Empty: $SONIC_BUILD_DIR/bin/sonic-server (sonic_add_test and the integration tests' CMake
    // set SONIC_BUILD_DIR).
    std::filesystem::path binary;
    // How long the server may take to print its "listening on" line (loading models included).
    absl::Duration startup_timeout = absl::Seconds(60);
  };

  // Starts the server and blocks until it prints "sonic-server: listening on ADDRESS:PORT" (and,
  // unless `args` turn them off, "sonic-server: metrics on ADDRESS:PORT" and "sonic-server: http
  // on ADDRESS:PORT").
  // Errors (the message carries the server's stderr log so far): FAILED_PRECONDITION when no
  // binary is given and SONIC_BUILD_DIR is unset, or the binary does not exist; INTERNAL when
  // the server exits before listening (the message has its exit status) or the process cannot
  // be created; DEADLINE_EXCEEDED when it does not listen within startup_timeout (it is killed).
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const Options& options);

  // SIGKILLs the server if it still runs, and reaps it.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // SIGSTOP, then waits until the kernel shows the server stopped (signals take effect
  // asynchronously); false when it has not stopped within 5 s. Resume() sends SIGCONT.
  bool Freeze();
  void Resume();
  int port() const { return port_; }
  // The Prometheus metrics HTTP port (on 127.0.0.1), from the "sonic-server: metrics on
  // ADDRESS:PORT" line that Start also waits for; 0 when `args` turn metrics off
  // (--allow-metrics=false).
  int metrics_port() const { return metrics_port_; }
  // The HTTP/REST port (on 127.0.0.1), from the "sonic-server: http on ADDRESS:PORT" line; 0
  // when `args` turn HTTP off (--allow-http=false).
  int http_port() const { return http_port_; }
  // "127.0.0.1:PORT", for grpc::CreateChannel.
  std::string address() const;
  // Everything the server wrote to stderr so far.
  std::string Log() const;

  // Sends `signal` and waits up to `timeout` for the server to exit. Returns its exit code, or
  // 128 + the signal number when a signal killed it (the shell's convention). DEADLINE_EXCEEDED
  // when it is still running after `timeout` (it is then SIGKILLed and reaped); FAILED_PRECONDITION
  // when it was already stopped.
  absl::StatusOr<int> Stop(int signal = SIGTERM, absl::Duration timeout = absl::Seconds(30));

 private:
  ServerProcess(pid_t pid, int stdout_fd, std::unique_ptr<TempDirectory> log_dir);

  // Reads the server's stdout until the "listening on" line; sets port_.
  absl::Status AwaitListening(absl::Duration timeout);
  // Keeps reading stdout after startup so the server never blocks on (or dies of) a full pipe.
  void DrainStdout();
  // waitpid until the child exits or `deadline`: its exit code (128 + signal when killed).
  // DEADLINE_EXCEEDED when it still runs at `deadline`.
  absl::StatusOr<int> Reap(absl::Time deadline);
  // Kills and reaps a child that is still running.
  void Kill();

  const pid_t pid_;
  const int stdout_fd_;
  const std::unique_ptr<TempDirectory> log_dir_;
  int port_ = 0;
  bool expect_metrics_ = true;
  int metrics_port_ = 0;
  bool expect_http_ = true;
  int http_port_ = 0;
  bool reaped_ = false;
  std::atomic<bool> stop_draining_{false};
  std::thread drainer_;
};

}  // namespace sonic::testing
