#include "server/frontend/http_logging_routes.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "server/logging/server_log.h"

namespace sonic::server {
namespace {

using nlohmann::json;

absl::StatusOr<LogSettingsMap> ParseChanges(std::string_view body) {
  LogSettingsMap changes;
  if (body.empty()) return changes;
  const json object = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return absl::InvalidArgumentError("the log settings request body must be a JSON object");
  }
  for (const auto& [name, value] : object.items()) {
    if (value.is_boolean()) {
      changes[name] = value.get<bool>();
    } else if (value.is_number_unsigned() &&
               value.get<uint64_t>() <= std::numeric_limits<uint32_t>::max()) {
      changes[name] = static_cast<uint32_t>(value.get<uint64_t>());
    } else if (value.is_string()) {
      changes[name] = value.get<std::string>();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "log setting '", name, "' must be a boolean, a uint32 or a string, got ", value.dump()));
    }
  }
  return changes;
}

HttpResponse Handle(const HttpRequest& request) {
  ServerLog& log = ServerLog::Get();
  absl::StatusOr<LogSettingsMap> changes =
      request.method == "POST" ? ParseChanges(request.body) : LogSettingsMap{};
  absl::Status status = changes.status();
  if (status.ok() && !changes->empty()) {
    absl::StatusOr<LogSettings> updated = UpdatedSettings(log.settings(), *changes);
    status = updated.ok() ? log.Apply(*updated) : updated.status();
  }
  if (!status.ok()) return HttpError(HttpStatusOf(status.code()), std::string(status.message()));
  json out = json::object();
  for (const auto& [name, value] : ToSettingsMap(log.settings())) {
    std::visit([&out, &name](const auto& typed) { out[name] = typed; }, value);
  }
  HttpResponse response;
  response.body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

}  // namespace

void AddLoggingRoutes(HttpApi& api) {
  for (const char* method : {"GET", "POST"}) {
    api.AddRoute(method, "/v2/logging",
                 [](const HttpRequest& request, const PathParams&) { return Handle(request); });
  }
}

}  // namespace sonic::server
