// A minimal HTTP/1.1 keep-alive client over one blocking socket, for benchmarks: it sends a
// request prepared once (one write) and reads the answer (Content-Length bodies only), so that
// what a benchmark measures is the server and the wire, not a client library.
// Not thread-safe: one client per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sonic::bench {

// The bytes of a POST request to `path` with `body` and optional extra header lines (each
// "Name: value\r\n").
std::string HttpPostBytes(std::string_view path, std::string_view body,
                          std::string_view extra_headers = "");

class RawHttpClient {
 public:
  // Connects to 127.0.0.1:`port` (TCP_NODELAY). UNAVAILABLE when it cannot.
  static absl::StatusOr<std::unique_ptr<RawHttpClient>> Connect(int port);
  ~RawHttpClient();
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  // Sends `request` (HttpPostBytes) and returns the response body; the body stays valid until
  // the next call. A connection the server closed while idle (its keep-alive timeout) is opened
  // again once, as HTTP clients do. INTERNAL for a non-200 status (with the body), a connection
  // closed mid-answer or a response without Content-Length.
  absl::StatusOr<std::string_view> RoundTrip(std::string_view request);

 private:
  RawHttpClient(int port, int fd) : port_(port), fd_(fd) {}
  // One attempt; `closed` tells whether the connection was found closed before any answer.
  absl::StatusOr<std::string_view> Attempt(std::string_view request, bool& closed);

  const int port_;
  int fd_;
  std::string buffer_;
};

}  // namespace sonic::bench
