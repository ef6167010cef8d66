// The HTTP libraries sonic-server could serve its REST endpoint with, each as a bare HTTP/1.1
// echo server (POST: the body comes back as the response body) in a forked process of its own:
// what each library costs per request before any inference work, measured against the same
// client (raw_http_client.h) beside the gRPC echo floor (echo_server.h).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic::bench {

enum class HttpLibrary {
  kCppHttplib,    // cpp-httplib: a thread pool, one blocking connection per thread
  kEvhttp,        // libevent's evhttp: one event loop thread
  kMicrohttpd,    // libmicrohttpd: an internal polling thread (epoll)
};

// The libraries this build has (evhttp and libmicrohttpd only where their -dev packages were
// found at configure time).
std::vector<HttpLibrary> AvailableHttpLibraries();

// "cpp-httplib", "evhttp", "libmicrohttpd".
std::string HttpLibraryName(HttpLibrary library);

// One running echo server on 127.0.0.1 (free port). The child gets SIGKILL when the thread that
// started it exits; the destructor kills and reaps it. Start before this process has started a
// thread (it forks without exec). INTERNAL when the child cannot listen.
class HttpEchoServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<HttpEchoServerProcess>> Start(HttpLibrary library);
  ~HttpEchoServerProcess();
  HttpEchoServerProcess(const HttpEchoServerProcess&) = delete;
  HttpEchoServerProcess& operator=(const HttpEchoServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }

 private:
  HttpEchoServerProcess(pid_t pid, int port) : pid_(pid), port_(port) {}
  const pid_t pid_;
  const int port_;
};

}  // namespace sonic::bench
