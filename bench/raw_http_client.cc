#include "raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sonic::bench {
namespace {

// The Content-Length of a header block; nullopt when absent.
std::optional<size_t> ContentLength(std::string_view head) {
  const absl::string_view text(head.data(), head.size());
  for (absl::string_view line : absl::StrSplit(text, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!absl::EqualsIgnoreCase(line.substr(0, colon), "content-length")) continue;
    size_t length = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 1)), &length)) {
      return length;
    }
  }
  return std::nullopt;
}

// A TCP connection to 127.0.0.1:`port` with TCP_NODELAY.
absl::StatusOr<int> OpenConnection(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", strerror(error)));
  }
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  return fd;
}

}  // namespace

std::string HttpPostBytes(std::string_view path, std::string_view body,
                          std::string_view extra_headers) {
  std::string request = "POST ";
  request.append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n").append(extra_headers);
  request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  request.append(body);
  return request;
}

absl::StatusOr<std::unique_ptr<RawHttpClient>> RawHttpClient::Connect(int port) {
  absl::StatusOr<int> fd = OpenConnection(port);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<RawHttpClient>(new RawHttpClient(port, *fd));
}

RawHttpClient::~RawHttpClient() { close(fd_); }

absl::StatusOr<std::string_view> RawHttpClient::RoundTrip(std::string_view request) {
  bool closed = false;
  absl::StatusOr<std::string_view> body = Attempt(request, closed);
  if (!closed) return body;
  close(fd_);
  absl::StatusOr<int> fd = OpenConnection(port_);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  return Attempt(request, closed);
}

absl::StatusOr<std::string_view> RawHttpClient::Attempt(std::string_view request, bool& closed) {
  closed = false;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed = true;
      return absl::InternalError(absl::StrCat("send: ", strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  buffer_.clear();
  size_t head_end = std::string::npos;
  std::optional<size_t> length;
  char chunk[65536];
  while (head_end == std::string::npos || buffer_.size() < head_end + 4 + *length) {
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed = buffer_.empty();
      return absl::InternalError("the server closed the connection");
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    if (head_end == std::string::npos) {
      head_end = buffer_.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      length = ContentLength(std::string_view(buffer_).substr(0, head_end));
      if (!length) return absl::InternalError("a response without Content-Length");
    }
  }
  const std::string_view body = std::string_view(buffer_).substr(head_end + 4, *length);
  if (!absl::StartsWith(buffer_, "HTTP/1.1 200")) {
    return absl::InternalError(absl::StrCat("HTTP ", buffer_.substr(9, 3), ": ", std::string(body)));
  }
  return body;
}

}  // namespace sonic::bench
