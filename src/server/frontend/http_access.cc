#include "server/frontend/http_access.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"

namespace sonic::server {
namespace {

std::vector<std::string> Segments(std::string_view path) {
  return absl::StrSplit(absl::string_view(path.data(), path.size()), '/', absl::SkipEmpty());
}

}  // namespace

auth::AccessClass HttpAccessClass(std::string_view method, std::string_view path) {
  using auth::AccessClass;
  static_cast<void>(method);
  const std::vector<std::string> segments = Segments(path);
  if (segments.size() < 2 || segments[0] != "v2") return AccessClass::kInference;
  const std::string& area = segments[1];
  const std::string& last = segments.back();
  if (area == "health") return AccessClass::kHealth;
  if (area == "repository" && last == "index") return AccessClass::kInference;
  if (area == "repository" || area == "logging" || area == "trace") return AccessClass::kRepository;
  if (area == "systemsharedmemory" || area == "cudasharedmemory") {
    return AccessClass::kSharedMemory;
  }
  if (area != "models") return AccessClass::kInference;
  if (last == "stats") return AccessClass::kStatistics;
  // /v2/models/M[/versions/V]/ready; a model named "ready" has /v2/models/ready (metadata).
  if (last == "ready" && segments.size() >= 4) return AccessClass::kHealth;
  if (segments.size() >= 5 && segments[segments.size() - 2] == "trace" && last == "setting") {
    return AccessClass::kRepository;
  }
  return AccessClass::kInference;
}

bool IsHttpRepositoryControl(std::string_view method, std::string_view path) {
  const std::vector<std::string> segments = Segments(path);
  return method == "POST" && segments.size() == 5 && segments[0] == "v2" &&
         segments[1] == "repository" && segments[2] == "models" &&
         (segments[4] == "load" || segments[4] == "unload");
}

std::optional<HttpResponse> RefuseHttpRequest(const auth::AccessPolicy* policy,
                                              const HttpRequest& request) {
  if (policy == nullptr) return std::nullopt;
  const auth::Caller caller{request.authorization, auth::IsLoopbackAddress(request.remote_address)};
  const absl::Status allowed =
      IsHttpRepositoryControl(request.method, request.path)
          ? policy->CheckRepositoryControl(caller)
          : policy->Check(HttpAccessClass(request.method, request.path), caller);
  if (allowed.ok()) return std::nullopt;
  const bool unauthenticated = allowed.code() == absl::StatusCode::kUnauthenticated;
  HttpResponse refusal = HttpError(unauthenticated ? 401 : 403, std::string(allowed.message()));
  if (unauthenticated) refusal.www_authenticate = "Bearer";
  return refusal;
}

}  // namespace sonic::server
