// Triton's trace extension over HTTP: HTTP inference requests traced with HTTP_RECV_* and
// HTTP_SEND_* timestamps, and GET|POST /v2/trace/setting and
// /v2/models/{m}/trace/setting, on TraceSettingsRequest (inference_service.h), so the settings,
// checks and errors are the gRPC TraceSetting RPC's.
//
// A POST body is a JSON object of settings, each a string, a list of strings (trace_level) or
// null (clears the setting, as an empty list over gRPC); an empty body or {} reads. The answer
// is the settings in effect: trace_level as a list, the others as strings.
#pragma once

#include "server/core/model_manager.h"
#include "server/frontend/http_api.h"
#include "server/trace/trace_manager.h"

namespace sonic::server {

// Adds the routes to `api` and has it trace inference requests (before it serves). Borrows
// `traces` and `models`, which must outlive the API.
void AddTraceRoutes(HttpApi& api, TraceManager& traces, const ModelManager& models);

}  // namespace sonic::server
