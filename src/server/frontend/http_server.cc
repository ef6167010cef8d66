#include "server/frontend/http_server.h"

#include <httplib.h>

#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/frontend/http_compression.h"

namespace sonic::server {
namespace {

constexpr char kHeaderLength[] = "Inference-Header-Content-Length";

absl::StatusOr<HttpRequest> ToApiRequest(const httplib::Request& request, std::string_view body) {
  HttpRequest api;
  api.method = request.method;
  api.path = request.path;
  api.body = body;
  api.remote_address = request.remote_addr;
  api.authorization = request.get_header_value("Authorization");
  if (request.has_header(kHeaderLength)) {
    size_t length = 0;
    if (!absl::SimpleAtoi(request.get_header_value(kHeaderLength), &length)) {
      return absl::InvalidArgumentError(absl::StrCat(
          kHeaderLength, " '", request.get_header_value(kHeaderLength), "' is not a byte count"));
    }
    api.header_length = length;
  }
  return api;
}

// httplib itself gzips (or brotli-compresses) JSON when asked; everything else, and deflate,
// is compressed here.
void CompressIfAsked(const httplib::Request& request, HttpResponse& response,
                     httplib::Response& out) {
  if (response.body.empty()) return;
  const std::string& accepted = request.get_header_value("Accept-Encoding");
  const bool httplib_compresses =
      response.content_type == "application/json" &&
      (accepted.find("gzip") != std::string::npos || accepted.find("br") != std::string::npos);
  std::optional<ContentCoding> coding = AcceptedCoding(accepted);
  if (!coding || httplib_compresses) return;
  absl::StatusOr<std::string> compressed = Compress(response.body, *coding);
  if (!compressed.ok()) return;  // sent uncompressed: the client asked, not required
  response.body = *std::move(compressed);
  out.set_header("Content-Encoding", std::string(ContentCodingName(*coding)));
}

// Answers `request`, whose body is `body`; `too_large`: the body was over the limit, unread.
void Serve(const HttpApi& api, const httplib::Request& request, std::string_view body,
           httplib::Response& out, std::optional<size_t> too_large = std::nullopt) {
  absl::StatusOr<HttpRequest> parsed = ToApiRequest(request, body);
  HttpResponse response =
      too_large ? HttpError(413, absl::StrCat("the request body is larger than ", *too_large,
                                              " bytes (--max-request-bytes)"))
      : parsed.ok() ? api.Handle(*parsed)
                    : HttpError(400, std::string(parsed.status().message()));
  out.status = response.status;
  if (response.header_length) {
    out.set_header(kHeaderLength, std::to_string(*response.header_length));
  }
  if (response.retry_after_s) {
    out.set_header("Retry-After", std::to_string(*response.retry_after_s));
  }
  if (response.www_authenticate) out.set_header("WWW-Authenticate", *response.www_authenticate);
  CompressIfAsked(request, response, out);
  out.body = std::move(response.body);
  out.set_header("Content-Type", response.content_type);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options,
                                                               const HttpApi& api) {
  if (options.thread_count < 1) {
    return absl::InvalidArgumentError("--http-thread-count must be at least 1");
  }
  auto http = std::make_unique<httplib::Server>();
  const size_t threads = static_cast<size_t>(options.thread_count);
  http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http->set_keep_alive_timeout(kKeepAliveSeconds);
  http->set_keep_alive_max_count(std::numeric_limits<int>::max());
  // Without it, a response's header and body writes wait for the client's delayed ACK.
  http->set_tcp_nodelay(true);
  // Every path goes to the API's router (httplib's pre-routing hook runs before the body is
  // read, so one catch-all route per method).
  auto serve = [&api](const httplib::Request& request, httplib::Response& out) {
    Serve(api, request, request.body, out);
  };
  // Bodies are read here chunk by chunk, after decompression, so that neither a large body nor
  // a small compressed one that inflates without end is held past the limit.
  auto serve_with_body = [&api, limit = options.max_request_bytes](
                             const httplib::Request& request, httplib::Response& out,
                             const httplib::ContentReader& read) {
    std::string body;
    bool too_large = false;
    read([&](const char* data, size_t size) {
      too_large = body.size() + size > limit;
      if (!too_large) body.append(data, size);
      return !too_large;
    });
    Serve(api, request, body, out, too_large ? std::optional<size_t>(limit) : std::nullopt);
  };
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3), and
  // tritonclient.http sends its body-less POSTs (repository index, unregister) so; httplib
  // would wait for the connection to close. Such requests are served before it reads.
  http->set_pre_routing_handler([&api](const httplib::Request& request, httplib::Response& out) {
    if (request.method == "GET" || request.has_header("Content-Length") ||
        request.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    Serve(api, request, request.body, out);
    return httplib::Server::HandlerResponse::Handled;
  });
  http->Get(".*", serve);
  http->Post(".*", serve_with_body);
  http->Put(".*", serve_with_body);
  http->Delete(".*", serve);
  absl::StatusOr<std::unique_ptr<HttplibListener>> listener =
      HttplibListener::Start(std::move(http), options.address, options.port, "HTTP endpoint",
                             options.reuse_port);
  if (!listener.ok()) return listener.status();
  return std::unique_ptr<HttpServer>(new HttpServer(*std::move(listener)));
}

void HttpServer::Stop() { listener_->Stop(); }

HttpServer::~HttpServer() { Stop(); }

}  // namespace sonic::server
