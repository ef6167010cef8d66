#include "server/metrics/metrics_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/metrics/prometheus_text.h"

namespace sonic::server::metrics {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestHead = 8 << 10;
constexpr char kHeadEnd[] = "\r\n\r\n";

// What a connection is doing: waiting for (the rest of) a request head, or writing an answer.
enum class Phase { kReading, kWriting };
enum class ReadResult { kOpen, kEnded, kFailed };

struct Connection {
  int fd = -1;
  bool local = false;  // the peer is a loopback address
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  size_t written = 0;
  bool close_after_write = false;
  bool peer_ended = false;          // the peer shut its side down: answer what it sent, then close
  Clock::time_point waiting_since;  // when the current request wait began (eviction order)
  Clock::time_point deadline;
};

struct ParsedRequest {
  std::string method, path, version;
  std::map<std::string, std::string> headers;  // names in lower case
};

bool ParseHead(std::string_view head, ParsedRequest& request) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(head.data(), head.size()), "\r\n");
  std::vector<absl::string_view> first = absl::StrSplit(lines.front(), ' ');
  if (first.size() != 3 || !absl::StartsWith(first[2], "HTTP/1.")) return false;
  request.method = std::string(first[0]);
  absl::string_view target = first[1];
  request.path = std::string(target.substr(0, target.find('?')));
  request.version = std::string(first[2]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  return true;
}

std::string Header(const ParsedRequest& request, const std::string& name) {
  const auto it = request.headers.find(name);
  return it == request.headers.end() ? "" : it->second;
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

std::string Response(int status, std::string_view content_type, std::string_view body,
                     bool head_only, bool keep_alive, std::string_view extra_headers = "") {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ", std::string(Reason(status)),
                                 "\r\nContent-Type: ", std::string(content_type),
                                 "\r\nContent-Length: ", body.size(),
                                 "\r\nConnection: ", keep_alive ? "keep-alive" : "close", "\r\n",
                                 std::string(extra_headers), "\r\n");
  if (!head_only) out.append(body);
  return out;
}

bool PeerIsLoopback(const sockaddr_storage& peer) {
  if (peer.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (peer.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
           (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127);
  }
  return false;
}

// A listening socket on address:port (non-blocking), or -1.
int Listen(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(address.empty() ? nullptr : address.c_str(), std::to_string(port).c_str(), &hints,
                  &found) != 0) {
    return -1;
  }
  int fd = -1;
  for (addrinfo* info = found; info != nullptr && fd < 0; info = info->ai_next) {
    fd = socket(info->ai_family, info->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                info->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only (not SO_REUSEPORT): a restart may bind over TIME_WAIT sockets, a second
    // server may not share a port in use.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, info->ai_addr, info->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return -1;
  if (local.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
}

}  // namespace

// The serving thread and everything it owns. Only the thread touches the connections.
class MetricsServer::Loop {
 public:
  Loop(const Options& options, ScrapeFunction scrape, int listen_fd, int epoll_fd, int wake_fd)
      : options_(options),
        scrape_(std::move(scrape)),
        listen_fd_(listen_fd),
        epoll_fd_(epoll_fd),
        wake_fd_(wake_fd) {}

  ~Loop() {
    Stop();
    close(epoll_fd_);
    close(wake_fd_);
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = write(wake_fd_, &one, sizeof(one));
    thread_.join();
    for (auto& [fd, connection] : connections_) close(fd);
    connections_.clear();
    close(listen_fd_);
  }

 private:
  void Run() {
    epoll_event events[64];
    for (;;) {
      const int ready = epoll_wait(epoll_fd_, events, 64, WaitMilliseconds());
      for (int i = 0; i < ready; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd_) return;
        if (fd == listen_fd_) {
          AcceptAll();
        } else if (auto it = connections_.find(fd); it != connections_.end()) {
          Serve(it->second, events[i].events);
        }
      }
      CloseExpired();
    }
  }

  int WaitMilliseconds() const {
    Clock::time_point next = Clock::now() + std::chrono::seconds(1);
    for (const auto& [fd, connection] : connections_) next = std::min(next, connection.deadline);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now());
    return static_cast<int>(std::max<int64_t>(wait.count(), 0));
  }

  void AcceptAll() {
    for (;;) {
      sockaddr_storage peer{};
      socklen_t length = sizeof(peer);
      const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a connection that went away meanwhile
      if (connections_.size() >= options_.max_connections && !EvictLongestWaiting()) {
        close(fd);
        continue;
      }
      int yes = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
      Connection& connection = connections_[fd];
      connection.fd = fd;
      connection.local = PeerIsLoopback(peer);
      WaitForRequest(connection);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = fd;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    }
  }

  // Closes the connection that has waited longest for its request; false when every one is
  // writing an answer.
  bool EvictLongestWaiting() {
    Connection* oldest = nullptr;
    for (auto& [fd, connection] : connections_) {
      if (connection.phase != Phase::kReading) continue;
      if (oldest == nullptr || connection.waiting_since < oldest->waiting_since) {
        oldest = &connection;
      }
    }
    if (oldest == nullptr) return false;
    Close(oldest->fd);
    return true;
  }

  void WaitForRequest(Connection& connection) {
    connection.phase = Phase::kReading;
    connection.waiting_since = Clock::now();
    connection.deadline =
        connection.waiting_since + absl::ToChronoNanoseconds(options_.request_timeout);
  }

  void Close(int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    connections_.erase(fd);
  }

  void CloseExpired() {
    const Clock::time_point now = Clock::now();
    std::vector<int> expired;
    for (const auto& [fd, connection] : connections_) {
      if (connection.deadline <= now) expired.push_back(fd);
    }
    for (int fd : expired) Close(fd);
  }

  void Serve(Connection& connection, uint32_t events) {
    if (connection.phase == Phase::kReading && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
      const ReadResult read = ReadAvailable(connection);
      if (read == ReadResult::kFailed) return Close(connection.fd);
      connection.peer_ended = read == ReadResult::kEnded;
      HandleBufferedRequest(connection);
      if (connection.phase == Phase::kReading && connection.peer_ended) {
        return Close(connection.fd);
      }
    }
    if (connection.phase == Phase::kWriting) WriteAvailable(connection);
  }

  // Reads what the socket holds, up to past the head limit (which tells that it was passed).
  ReadResult ReadAvailable(Connection& connection) {
    char buffer[4096];
    while (connection.in.size() <= kMaxRequestHead) {
      const ssize_t got = read(connection.fd, buffer, sizeof(buffer));
      if (got > 0) {
        connection.in.append(buffer, static_cast<size_t>(got));
        continue;
      }
      if (got == 0) return ReadResult::kEnded;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return ReadResult::kOpen;
      return ReadResult::kFailed;
    }
    return ReadResult::kOpen;
  }

  void HandleBufferedRequest(Connection& connection) {
    const size_t end = connection.in.find(kHeadEnd);
    if (end == std::string::npos) {
      if (connection.in.size() > kMaxRequestHead) {
        Answer(connection, Response(431, "text/plain", "request head too large\n", false, false),
               true);
      }
      return;
    }
    const std::string head = connection.in.substr(0, end);
    connection.in.erase(0, end + sizeof(kHeadEnd) - 1);
    ParsedRequest request;
    if (!ParseHead(head, request)) {
      return Answer(connection, Response(400, "text/plain", "bad request\n", false, false), true);
    }
    const std::string connection_header = absl::AsciiStrToLower(Header(request, "connection"));
    // A body is never read here (GET and HEAD have none): after one, the connection closes.
    const bool has_body =
        !Header(request, "transfer-encoding").empty() ||
        (!Header(request, "content-length").empty() && Header(request, "content-length") != "0");
    const bool keep_alive = !has_body && !connection.peer_ended && connection_header != "close" &&
                            (request.version != "HTTP/1.0" || connection_header == "keep-alive");
    Answer(connection, Respond(request, connection, keep_alive), !keep_alive);
  }

  std::string Respond(const ParsedRequest& request, const Connection& connection, bool keep_alive) {
    const bool head_only = request.method == "HEAD";
    if (request.path != "/metrics") {
      return Response(404, "text/plain", "not found\n", head_only, keep_alive);
    }
    if (request.method != "GET" && !head_only) {
      return Response(405, "text/plain", "only GET and HEAD\n", false, keep_alive,
                      "Allow: GET, HEAD\r\n");
    }
    if (options_.authorize) {
      const absl::Status allowed =
          options_.authorize(Header(request, "authorization"), connection.local);
      if (!allowed.ok()) {
        const bool unauthenticated = allowed.code() == absl::StatusCode::kUnauthenticated;
        return Response(unauthenticated ? 401 : 403, "text/plain",
                        absl::StrCat(allowed.message(), "\n"), head_only, keep_alive,
                        unauthenticated ? "WWW-Authenticate: Bearer\r\n" : "");
      }
    }
    return Response(200, kPrometheusContentType, scrape_(), head_only, keep_alive);
  }

  void Answer(Connection& connection, std::string response, bool close_after) {
    connection.phase = Phase::kWriting;
    connection.out = std::move(response);
    connection.written = 0;
    connection.close_after_write = close_after;
    connection.deadline = Clock::now() + absl::ToChronoNanoseconds(options_.response_timeout);
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.fd = connection.fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
  }

  void WriteAvailable(Connection& connection) {
    while (connection.written < connection.out.size()) {
      const ssize_t sent = send(connection.fd, connection.out.data() + connection.written,
                                connection.out.size() - connection.written, MSG_NOSIGNAL);
      if (sent > 0) {
        connection.written += static_cast<size_t>(sent);
        continue;
      }
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      return Close(connection.fd);
    }
    if (connection.close_after_write) return Close(connection.fd);
    connection.out.clear();
    connection.out.shrink_to_fit();
    WaitForRequest(connection);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = connection.fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
    // A pipelined request may already be buffered.
    if (!connection.in.empty()) {
      HandleBufferedRequest(connection);
      if (connection.phase == Phase::kWriting) WriteAvailable(connection);
    }
  }

  const Options options_;
  const ScrapeFunction scrape_;
  const int listen_fd_;
  const int epoll_fd_;
  const int wake_fd_;
  std::map<int, Connection> connections_;  // by socket; the serving thread's only
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Create(const Options& options,
                                                                     ScrapeFunction scrape) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics endpoint port ", options.port, " is outside 0..65535"));
  }
  if (options.max_connections == 0) {
    return absl::InvalidArgumentError("the metrics endpoint needs at least one connection");
  }
  const int listen_fd = Listen(options.address, options.port);
  const int port = listen_fd < 0 ? -1 : BoundPort(listen_fd);
  if (port <= 0) {
    if (listen_fd >= 0) close(listen_fd);
    return absl::UnavailableError(absl::StrCat("cannot bind the metrics endpoint to ",
                                               options.address, ":", options.port,
                                               " (address in use?)"));
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) {
    for (int fd : {listen_fd, epoll_fd, wake_fd}) {
      if (fd >= 0) close(fd);
    }
    return absl::UnavailableError("the metrics endpoint cannot create its event loop");
  }
  for (int fd : {listen_fd, wake_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  }
  auto loop = std::make_unique<Loop>(options, std::move(scrape), listen_fd, epoll_fd, wake_fd);
  loop->Start();
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(loop), port));
}

MetricsServer::MetricsServer(std::unique_ptr<Loop> loop, int port)
    : loop_(std::move(loop)), port_(port) {}

void MetricsServer::Stop() { loop_->Stop(); }

MetricsServer::~MetricsServer() { Stop(); }

}  // namespace sonic::server::metrics
