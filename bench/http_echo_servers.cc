#include "http_echo_servers.h"

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

#if SONIC_BENCH_HAVE_EVHTTP
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#endif
#if SONIC_BENCH_HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

namespace sonic::bench {
namespace {

// As sonic-server's HTTP endpoint: as many connection threads as --http-thread-count's default.
constexpr size_t kHttplibThreads = 8;

bool TellPort(int port_fd, int port) {
  const bool told = write(port_fd, &port, sizeof(port)) == sizeof(port);
  close(port_fd);
  return told && port > 0;
}

[[noreturn]] void ServeHttplib(int port_fd) {
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttplibThreads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(std::numeric_limits<int>::max());
  server.Post(".*", [](const httplib::Request& request, httplib::Response& response) {
    response.body = request.body;
    response.set_header("Content-Type", "application/octet-stream");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  if (!TellPort(port_fd, port)) _exit(1);
  server.listen_after_bind();
  _exit(0);
}

#if SONIC_BENCH_HAVE_EVHTTP
void EvhttpEcho(evhttp_request* request, void*) {
  evbuffer* out = evhttp_request_get_output_buffer(request);
  evbuffer_add_buffer(out, evhttp_request_get_input_buffer(request));
  evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type",
                    "application/octet-stream");
  evhttp_send_reply(request, 200, "OK", nullptr);
}

[[noreturn]] void ServeEvhttp(int port_fd) {
  event_base* base = event_base_new();
  evhttp* http = base ? evhttp_new(base) : nullptr;
  evhttp_bound_socket* bound = http ? evhttp_bind_socket_with_handle(http, "127.0.0.1", 0) : nullptr;
  int port = 0;
  if (bound != nullptr) {
    sockaddr_in address{};
    socklen_t length = sizeof(address);
    if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&address),
                    &length) == 0) {
      port = ntohs(address.sin_port);
    }
  }
  if (!TellPort(port_fd, port)) _exit(1);
  evhttp_set_gencb(http, EvhttpEcho, nullptr);
  event_base_dispatch(base);
  _exit(0);
}

#endif  // SONIC_BENCH_HAVE_EVHTTP

#if SONIC_BENCH_HAVE_MICROHTTPD
MHD_Result MicrohttpdEcho(void*, MHD_Connection* connection, const char*, const char*,
                          const char*, const char* upload_data, size_t* upload_data_size,
                          void** state) {
  auto* body = static_cast<std::string*>(*state);
  if (body == nullptr) {  // headers only: the body comes in later calls
    *state = new std::string();
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    body->append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  MHD_Response* response =
      MHD_create_response_from_buffer(body->size(), body->data(), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, "Content-Type", "application/octet-stream");
  const MHD_Result queued = MHD_queue_response(connection, 200, response);
  MHD_destroy_response(response);
  return queued;
}

void MicrohttpdDone(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<std::string*>(*state);
  *state = nullptr;
}

[[noreturn]] void ServeMicrohttpd(int port_fd) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr, nullptr, &MicrohttpdEcho,
      nullptr, MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_NOTIFY_COMPLETED, &MicrohttpdDone,
      nullptr, MHD_OPTION_END);
  int port = 0;
  if (daemon != nullptr) {
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info != nullptr) port = info->port;
  }
  if (!TellPort(port_fd, port)) _exit(1);
  while (true) pause();
}

#endif  // SONIC_BENCH_HAVE_MICROHTTPD

[[noreturn]] void ServeInChild(HttpLibrary library, int port_fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  signal(SIGPIPE, SIG_IGN);
  switch (library) {
    case HttpLibrary::kCppHttplib: ServeHttplib(port_fd);
#if SONIC_BENCH_HAVE_EVHTTP
    case HttpLibrary::kEvhttp: ServeEvhttp(port_fd);
#endif
#if SONIC_BENCH_HAVE_MICROHTTPD
    case HttpLibrary::kMicrohttpd: ServeMicrohttpd(port_fd);
#endif
    default: break;
  }
  _exit(1);
}

}  // namespace

std::vector<HttpLibrary> AvailableHttpLibraries() {
  std::vector<HttpLibrary> libraries = {HttpLibrary::kCppHttplib};
#if SONIC_BENCH_HAVE_EVHTTP
  libraries.push_back(HttpLibrary::kEvhttp);
#endif
#if SONIC_BENCH_HAVE_MICROHTTPD
  libraries.push_back(HttpLibrary::kMicrohttpd);
#endif
  return libraries;
}

std::string HttpLibraryName(HttpLibrary library) {
  switch (library) {
    case HttpLibrary::kCppHttplib: return "cpp-httplib";
    case HttpLibrary::kEvhttp: return "evhttp";
    case HttpLibrary::kMicrohttpd: return "libmicrohttpd";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<HttpEchoServerProcess>> HttpEchoServerProcess::Start(
    HttpLibrary library) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    ServeInChild(library, fds[1], parent);
  }
  close(fds[1]);
  int port = 0;
  ssize_t got;
  do {
    got = read(fds[0], &port, sizeof(port));
  } while (got < 0 && errno == EINTR);
  close(fds[0]);
  std::unique_ptr<HttpEchoServerProcess> server(new HttpEchoServerProcess(pid, port));
  if (got != sizeof(port) || port <= 0) {
    return absl::InternalError(HttpLibraryName(library) + " echo server could not listen");
  }
  return server;
}

HttpEchoServerProcess::~HttpEchoServerProcess() {
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace sonic::bench
