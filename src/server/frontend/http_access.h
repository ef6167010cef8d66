// The access policy (server/auth/access_policy.h) over HTTP/REST: which class each route
// belongs to, and the refusal a request gets: 401 with WWW-Authenticate: Bearer when a token is
// missing or refused, 403 when the token lacks the class's scope or repository control is not
// open to the caller. Thread-safe (stateless).
#pragma once

#include <optional>
#include <string_view>

#include "server/auth/access_policy.h"
#include "server/frontend/http_router.h"

namespace sonic::server {

// By method and path: /v2/health/*, model readiness -> health; statistics -> statistics;
// model load and unload, logging and trace settings -> repository; shared memory ->
// shared_memory; everything else (metadata, config, infer, the repository index, unknown paths)
// -> inference.
auth::AccessClass HttpAccessClass(std::string_view method, std::string_view path);

// POST /v2/repository/models/M/load or /unload.
bool IsHttpRepositoryControl(std::string_view method, std::string_view path);

// Nothing when `request` may proceed under `policy` (null: no policy, everything may).
std::optional<HttpResponse> RefuseHttpRequest(const auth::AccessPolicy* policy,
                                              const HttpRequest& request);

}  // namespace sonic::server
