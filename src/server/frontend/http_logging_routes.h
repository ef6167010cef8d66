// Triton's logging extension over HTTP: GET|POST /v2/logging on the server's log
// (server/logging/server_log.h), with the LogSettings RPC's names, checks and errors.
//
// A POST body is a JSON object of settings: log_file and log_format strings, log_info,
// log_warning and log_error booleans, log_verbose_level a non-negative integer; an empty body or
// {} reads. The answer is every setting in effect.
#pragma once

#include "server/frontend/http_api.h"

namespace sonic::server {

// Adds the routes to `api` (before it serves).
void AddLoggingRoutes(HttpApi& api);

}  // namespace sonic::server
