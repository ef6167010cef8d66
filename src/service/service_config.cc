#include "sonic/service/service_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "sonic/common/status.h"

namespace sonic::service {
namespace {

absl::Status Bad(const YAML::Node& node, const std::string& what) {
  const YAML::Mark mark = node.Mark();
  std::string where = mark.is_null() ? "" : absl::StrCat(" (line ", mark.line + 1, ")");
  return absl::InvalidArgumentError(absl::StrCat("service config: ", what, where));
}

// Fails on keys of `node` (a map) outside `allowed`.
absl::Status CheckKeys(const YAML::Node& node, const std::string& context,
                       const std::set<std::string>& allowed) {
  if (!node.IsMap()) return Bad(node, absl::StrCat(context, " must be a map"));
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (!allowed.count(key)) {
      return Bad(entry.first, absl::StrCat("unknown key '", key, "' in ", context, " (known: ",
                                           absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GetString(const YAML::Node& node, const std::string& key,
                                      const std::string& context, bool required) {
  const YAML::Node value = node[key];
  if (!value) {
    if (required) return Bad(node, absl::StrCat(context, " needs '", key, "'"));
    return std::string();
  }
  if (!value.IsScalar()) return Bad(value, absl::StrCat(context, ".", key, " must be a string"));
  std::string text = value.as<std::string>();
  if (required && text.empty()) return Bad(value, absl::StrCat(context, ".", key, " is empty"));
  return text;
}

absl::StatusOr<double> GetNumber(const YAML::Node& node, const std::string& key,
                                 const std::string& context, double fallback) {
  const YAML::Node value = node[key];
  if (!value) return fallback;
  double number = 0;
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, number) || number < 0) {
    return Bad(value, absl::StrCat(context, ".", key, " must be a number >= 0, not '",
                                   value.IsScalar() ? value.Scalar() : "(not a scalar)", "'"));
  }
  return number;
}

absl::StatusOr<bool> GetBool(const YAML::Node& node, const std::string& key,
                             const std::string& context, bool fallback) {
  const YAML::Node value = node[key];
  if (!value) return fallback;
  bool flag = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, flag)) {
    return Bad(value, absl::StrCat(context, ".", key, " must be true or false"));
  }
  return flag;
}

absl::StatusOr<ServerConfig> ParseServer(const YAML::Node& node, size_t index) {
  const std::string context = absl::StrCat("servers[", index, "]");
  SONIC_RETURN_IF_ERROR(CheckKeys(node, context, {"name", "address", "tls"}));
  ServerConfig server;
  SONIC_ASSIGN_OR_RETURN(server.name, GetString(node, "name", context, true));
  SONIC_ASSIGN_OR_RETURN(server.address, GetString(node, "address", context, true));
  if (server.address.find(':') == std::string::npos) {
    return Bad(node["address"],
               absl::StrCat(context, ".address '", server.address, "' is not host:port"));
  }
  if (const YAML::Node tls = node["tls"]) {
    const std::string tls_context = context + ".tls";
    SONIC_RETURN_IF_ERROR(
        CheckKeys(tls, tls_context, {"root_certificates", "private_key", "certificate_chain"}));
    server.tls.enabled = true;
    SONIC_ASSIGN_OR_RETURN(server.tls.root_certificates_file,
                           GetString(tls, "root_certificates", tls_context, false));
    SONIC_ASSIGN_OR_RETURN(server.tls.private_key_file,
                           GetString(tls, "private_key", tls_context, false));
    SONIC_ASSIGN_OR_RETURN(server.tls.certificate_chain_file,
                           GetString(tls, "certificate_chain", tls_context, false));
  }
  return server;
}

absl::StatusOr<ModelDeclaration> ParseModel(const YAML::Node& node, size_t index) {
  const std::string context = absl::StrCat("models[", index, "]");
  SONIC_RETURN_IF_ERROR(CheckKeys(node, context, {"name", "path", "preferred_server"}));
  ModelDeclaration model;
  SONIC_ASSIGN_OR_RETURN(model.name, GetString(node, "name", context, true));
  SONIC_ASSIGN_OR_RETURN(std::string path, GetString(node, "path", context, true));
  model.directory = path;
  SONIC_ASSIGN_OR_RETURN(model.preferred_server,
                         GetString(node, "preferred_server", context, false));
  return model;
}

absl::StatusOr<FallbackDevice> ParseDevice(const YAML::Node& node, const std::string& text) {
  if (text.empty() || text == "auto") return FallbackDevice::kAuto;
  if (text == "cpu") return FallbackDevice::kCpu;
  if (text == "gpu") return FallbackDevice::kGpu;
  return Bad(node, absl::StrCat("fallback.device '", text, "' is not auto, cpu or gpu"));
}

absl::StatusOr<FallbackConfig> ParseFallback(const YAML::Node& node) {
  SONIC_RETURN_IF_ERROR(CheckKeys(node, "fallback",
                                  {"enabled", "binary", "launch_command", "device", "cpu_cores",
                                   "startup_timeout_seconds", "stop_grace_seconds"}));
  FallbackConfig fallback;
  SONIC_ASSIGN_OR_RETURN(fallback.enabled, GetBool(node, "enabled", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(std::string binary, GetString(node, "binary", "fallback", false));
  fallback.binary = binary;
  SONIC_ASSIGN_OR_RETURN(fallback.launch_command,
                         GetString(node, "launch_command", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(std::string device, GetString(node, "device", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(fallback.device, ParseDevice(node["device"], device));
  SONIC_ASSIGN_OR_RETURN(double cores, GetNumber(node, "cpu_cores", "fallback", 0));
  fallback.cpu_cores = static_cast<int>(cores);
  SONIC_ASSIGN_OR_RETURN(double startup, GetNumber(node, "startup_timeout_seconds", "fallback",
                                                   absl::ToDoubleSeconds(fallback.startup_timeout)));
  fallback.startup_timeout = absl::Seconds(startup);
  SONIC_ASSIGN_OR_RETURN(double grace, GetNumber(node, "stop_grace_seconds", "fallback",
                                                 absl::ToDoubleSeconds(fallback.stop_grace)));
  fallback.stop_grace = absl::Seconds(grace);
  return fallback;
}

absl::StatusOr<RetryPolicy> ParseRetryPolicy(const YAML::Node& node, const std::string& text) {
  for (RetryPolicy policy :
       {RetryPolicy::kSameServer, RetryPolicy::kAnotherServer, RetryPolicy::kFallback}) {
    if (text == RetryPolicyName(policy)) return policy;
  }
  return Bad(node, absl::StrCat("retry_policy '", text,
                                "' is not same_server, another_server or fallback"));
}

absl::Status ParseLists(const YAML::Node& root, ServiceConfig& config) {
  if (const YAML::Node servers = root["servers"]) {
    if (!servers.IsSequence()) return Bad(servers, "servers must be a list");
    std::set<std::string> names;
    for (size_t i = 0; i < servers.size(); ++i) {
      SONIC_ASSIGN_OR_RETURN(ServerConfig server, ParseServer(servers[i], i));
      if (!names.insert(server.name).second) {
        return Bad(servers[i], absl::StrCat("duplicate server name '", server.name, "'"));
      }
      config.servers.push_back(std::move(server));
    }
  }
  if (const YAML::Node models = root["models"]) {
    if (!models.IsSequence()) return Bad(models, "models must be a list");
    for (size_t i = 0; i < models.size(); ++i) {
      SONIC_ASSIGN_OR_RETURN(ModelDeclaration model, ParseModel(models[i], i));
      config.models.push_back(std::move(model));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServiceConfig> ParseRoot(const YAML::Node& root) {
  ServiceConfig config;
  if (root.IsNull()) return config;
  SONIC_RETURN_IF_ERROR(CheckKeys(root, "the service config",
                                  {"servers", "models", "preferred_server", "retry_policy",
                                   "probe_interval_seconds", "fallback"}));
  SONIC_RETURN_IF_ERROR(ParseLists(root, config));
  SONIC_ASSIGN_OR_RETURN(config.preferred_server,
                         GetString(root, "preferred_server", "config", false));
  SONIC_ASSIGN_OR_RETURN(std::string policy, GetString(root, "retry_policy", "config", false));
  if (!policy.empty()) {
    SONIC_ASSIGN_OR_RETURN(config.retry_policy, ParseRetryPolicy(root["retry_policy"], policy));
  }
  SONIC_ASSIGN_OR_RETURN(double interval,
                         GetNumber(root, "probe_interval_seconds", "config",
                                   absl::ToDoubleSeconds(config.probe_interval)));
  config.probe_interval = absl::Seconds(interval);
  if (const YAML::Node fallback = root["fallback"]) {
    SONIC_ASSIGN_OR_RETURN(config.fallback, ParseFallback(fallback));
  }
  return config;
}

}  // namespace

std::string_view RetryPolicyName(RetryPolicy policy) {
  switch (policy) {
    case RetryPolicy::kSameServer:
      return "same_server";
    case RetryPolicy::kAnotherServer:
      return "another_server";
    case RetryPolicy::kFallback:
      return "fallback";
  }
  return "unknown";
}

absl::StatusOr<ServiceConfig> ParseServiceConfig(std::string_view yaml) {
  try {
    return ParseRoot(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("service config: malformed YAML at line ",
                                                   e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<ServiceConfig> LoadServiceConfig(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("service config: cannot read ", file.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ServiceConfig> config = ParseServiceConfig(text.str());
  if (!config.ok()) return Annotate(config.status(), file.string());
  return config;
}

absl::StatusOr<std::vector<ServerConfig>> ServersFromEnvironment() {
  std::vector<ServerConfig> servers;
  const char* value = std::getenv(kServerAddressEnv);
  if (value == nullptr) return servers;
  const std::vector<std::string> entries = absl::StrSplit(value, ',', absl::SkipWhitespace());
  for (const std::string& entry : entries) {
    std::string address(absl::StripAsciiWhitespace(entry));
    if (address.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(kServerAddressEnv, ": '", address,
                                                     "' is not host:port"));
    }
    servers.push_back({absl::StrCat("env", servers.size()), address, {}});
  }
  return servers;
}

}  // namespace sonic::service
