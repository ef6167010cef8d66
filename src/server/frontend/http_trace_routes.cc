#include "server/frontend/http_trace_routes.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

using nlohmann::json;

absl::StatusOr<TraceSettingMap> ParseSettings(std::string_view body) {
  TraceSettingMap settings;
  if (body.empty()) return settings;
  const json object = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return absl::InvalidArgumentError("the trace setting request body must be a JSON object");
  }
  for (const auto& [name, value] : object.items()) {
    std::vector<std::string>& values = settings[name];
    if (value.is_string()) {
      values.push_back(value.get<std::string>());
    } else if (value.is_array()) {
      for (const json& item : value) {
        if (!item.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat("trace setting '", name, "' must list strings, got ", item.dump()));
        }
        values.push_back(item.get<std::string>());
      }
    } else if (!value.is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trace setting '", name, "' must be a string, a list of strings or null, got ",
          value.dump()));
    }
  }
  return settings;
}

HttpResponse Handle(TraceManager& traces, const ModelManager& models,
                    const std::string& model_name, const HttpRequest& request) {
  absl::StatusOr<TraceSettingMap> settings =
      request.method == "POST" ? ParseSettings(request.body) : TraceSettingMap{};
  if (settings.ok()) settings = TraceSettingsRequest(traces, models, model_name, *settings);
  if (!settings.ok()) {
    return HttpError(HttpStatusOf(settings.status().code()),
                     std::string(settings.status().message()));
  }
  json out = json::object();
  for (const auto& [name, values] : *settings) {
    if (name == "trace_level") {
      out[name] = values;
    } else {
      out[name] = values.empty() ? std::string() : values.front();
    }
  }
  HttpResponse response;
  response.body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

}  // namespace

void AddTraceRoutes(HttpApi& api, TraceManager& traces, const ModelManager& models) {
  api.EnableTracing(traces);
  for (const char* method : {"GET", "POST"}) {
    api.AddRoute(method, "/v2/trace/setting",
                 [&traces, &models](const HttpRequest& request, const PathParams&) {
                   return Handle(traces, models, "", request);
                 });
    api.AddRoute(method, "/v2/models/{}/trace/setting",
                 [&traces, &models](const HttpRequest& request, const PathParams& params) {
                   return Handle(traces, models, params[0], request);
                 });
  }
}

}  // namespace sonic::server
