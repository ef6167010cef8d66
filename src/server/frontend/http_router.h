// Method + path dispatch for the HTTP/REST endpoint, independent of the HTTP library: the
// transport hands over a parsed HttpRequest and writes back the HttpResponse.
//
// Routes are added before serving starts (not thread-safe); Route is thread-safe then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sonic::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query
  std::string_view body;  // already decompressed (Content-Encoding); alive while handled
  // The Inference-Header-Content-Length header, when sent.
  std::optional<size_t> header_length;
  // The peer's IP address (for the shared-memory registry's notion of a client).
  std::string remote_address;
  // The Authorization header as sent ("" when none): the bearer token (http_access.h).
  std::string authorization;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Sent as Inference-Header-Content-Length (binary tensor data follows the JSON).
  std::optional<size_t> header_length;
  // Sent as Retry-After (seconds): when a refused client may try again.
  std::optional<uint64_t> retry_after_s;
  // Sent as WWW-Authenticate with a 401 (RFC 6750: "Bearer").
  std::optional<std::string> www_authenticate;
};

// The values of a route's `{}` segments, in order.
using PathParams = std::vector<std::string>;
using HttpHandler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

// {"error": message} with `status`.
HttpResponse HttpError(int status, std::string_view message);

class HttpRouter {
 public:
  // `pattern`: a path whose segments are literals or `{}` (one non-empty segment, passed to
  // the handler), e.g. "/v2/models/{}/versions/{}/ready".
  void Add(std::string method, std::string_view pattern, HttpHandler handler);

  // The handler of the first route matching the path and method; 404 when no route has the
  // path, 405 when none of its routes has the method.
  HttpResponse Route(const HttpRequest& request) const;

 private:
  struct Route_ {
    std::string method;
    std::vector<std::string> segments;  // "{}" = a parameter
    HttpHandler handler;
  };
  std::vector<Route_> routes_;
};

}  // namespace sonic::server
