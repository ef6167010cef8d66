#include "server/frontend/http_router.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/frontend/http_infer_codec.h"

namespace sonic::server {
namespace {

std::vector<std::string> Segments(std::string_view path) {
  return absl::StrSplit(absl::string_view(path.data(), path.size()), '/', absl::SkipEmpty());
}

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments,
             PathParams& params) {
  if (pattern.size() != segments.size()) return false;
  params.clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{}") {
      params.push_back(segments[i]);
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

HttpResponse HttpError(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = HttpErrorBody(message);
  return response;
}

void HttpRouter::Add(std::string method, std::string_view pattern, HttpHandler handler) {
  routes_.push_back({std::move(method), Segments(pattern), std::move(handler)});
}

HttpResponse HttpRouter::Route(const HttpRequest& request) const {
  const std::vector<std::string> segments = Segments(request.path);
  PathParams params;
  bool path_known = false;
  for (const Route_& route : routes_) {
    if (!Matches(route.segments, segments, params)) continue;
    path_known = true;
    if (route.method == request.method) return route.handler(request, params);
  }
  if (path_known) {
    return HttpError(405, absl::StrCat("method ", request.method, " not allowed on ", request.path));
  }
  return HttpError(404, absl::StrCat("no endpoint ", request.path));
}

}  // namespace sonic::server
