#include "sonic/service/service_config.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/yaml_fields.h"
#include "service/service_config_yaml.h"
#include "sonic/common/status.h"

namespace sonic::service {
namespace {

const yaml::Fields& Fields() {
  static const yaml::Fields fields("service config");
  return fields;
}

absl::StatusOr<ServerConfig> ParseServer(const YAML::Node& node, size_t index) {
  const std::string context = absl::StrCat("servers[", index, "]");
  SONIC_RETURN_IF_ERROR(
      Fields().CheckKeys(node, context, {"name", "address", "tls", "token_file", "token_env"}));
  ServerConfig server;
  SONIC_ASSIGN_OR_RETURN(server.name, Fields().String(node, "name", context, true));
  SONIC_ASSIGN_OR_RETURN(server.address, Fields().String(node, "address", context, true));
  if (server.address.find(':') == std::string::npos) {
    return Fields().Error(
        node["address"], absl::StrCat(context, ".address '", server.address, "' is not host:port"));
  }
  if (const YAML::Node tls = node["tls"]) {
    const std::string tls_context = context + ".tls";
    SONIC_RETURN_IF_ERROR(Fields().CheckKeys(
        tls, tls_context, {"root_certificates", "private_key", "certificate_chain"}));
    server.tls.enabled = true;
    SONIC_ASSIGN_OR_RETURN(server.tls.root_certificates_file,
                           Fields().String(tls, "root_certificates", tls_context, false));
    SONIC_ASSIGN_OR_RETURN(server.tls.private_key_file,
                           Fields().String(tls, "private_key", tls_context, false));
    SONIC_ASSIGN_OR_RETURN(server.tls.certificate_chain_file,
                           Fields().String(tls, "certificate_chain", tls_context, false));
  }
  SONIC_ASSIGN_OR_RETURN(server.tls.token_file, Fields().String(node, "token_file", context, false));
  SONIC_ASSIGN_OR_RETURN(server.tls.token_env, Fields().String(node, "token_env", context, false));
  return server;
}

absl::StatusOr<ModelDeclaration> ParseModel(const YAML::Node& node, size_t index) {
  const std::string context = absl::StrCat("models[", index, "]");
  SONIC_RETURN_IF_ERROR(Fields().CheckKeys(node, context, {"name", "path", "preferred_server"}));
  ModelDeclaration model;
  SONIC_ASSIGN_OR_RETURN(model.name, Fields().String(node, "name", context, true));
  SONIC_ASSIGN_OR_RETURN(std::string path, Fields().String(node, "path", context, true));
  model.directory = path;
  SONIC_ASSIGN_OR_RETURN(model.preferred_server,
                         Fields().String(node, "preferred_server", context, false));
  return model;
}

absl::StatusOr<FallbackDevice> ParseDevice(const YAML::Node& node, const std::string& text) {
  if (text.empty() || text == "auto") return FallbackDevice::kAuto;
  if (text == "cpu") return FallbackDevice::kCpu;
  if (text == "gpu") return FallbackDevice::kGpu;
  return Fields().Error(node, absl::StrCat("fallback.device '", text, "' is not auto, cpu or gpu"));
}

absl::StatusOr<std::optional<client::SonicMode>> ParseClientMode(const YAML::Node& node,
                                                                 const std::string& text) {
  if (text.empty()) return std::nullopt;
  for (client::SonicMode mode :
       {client::SonicMode::kSync, client::SonicMode::kAsync, client::SonicMode::kPseudoAsync}) {
    if (text == client::SonicModeName(mode)) return mode;
  }
  return Fields().Error(node, absl::StrCat("fallback.cpu_client_mode '", text,
                                           "' is not Sync, Async or PseudoAsync"));
}

absl::StatusOr<FallbackConfig> ParseFallback(const YAML::Node& node) {
  SONIC_RETURN_IF_ERROR(Fields().CheckKeys(
      node, "fallback",
      {"enabled", "binary", "launch_command", "device", "cpu_cores", "startup_timeout_seconds",
       "stop_grace_seconds", "verbose", "debug", "temp_dir", "cpu_client_mode"}));
  FallbackConfig fallback;
  SONIC_ASSIGN_OR_RETURN(fallback.enabled, Fields().Bool(node, "enabled", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(std::string binary, Fields().String(node, "binary", "fallback", false));
  fallback.binary = binary;
  SONIC_ASSIGN_OR_RETURN(fallback.launch_command,
                         Fields().String(node, "launch_command", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(std::string device, Fields().String(node, "device", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(fallback.device, ParseDevice(node["device"], device));
  SONIC_ASSIGN_OR_RETURN(double cores, Fields().Number(node, "cpu_cores", "fallback", 0));
  fallback.cpu_cores = static_cast<int>(cores);
  SONIC_ASSIGN_OR_RETURN(double startup,
                         Fields().Number(node, "startup_timeout_seconds", "fallback",
                                         absl::ToDoubleSeconds(fallback.startup_timeout)));
  fallback.startup_timeout = absl::Seconds(startup);
  SONIC_ASSIGN_OR_RETURN(double grace, Fields().Number(node, "stop_grace_seconds", "fallback",
                                                       absl::ToDoubleSeconds(fallback.stop_grace)));
  fallback.stop_grace = absl::Seconds(grace);
  SONIC_ASSIGN_OR_RETURN(fallback.verbose, Fields().Bool(node, "verbose", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(fallback.debug, Fields().Bool(node, "debug", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(std::string temp_dir,
                         Fields().String(node, "temp_dir", "fallback", false));
  fallback.temp_dir = temp_dir;
  SONIC_ASSIGN_OR_RETURN(std::string mode,
                         Fields().String(node, "cpu_client_mode", "fallback", false));
  SONIC_ASSIGN_OR_RETURN(fallback.cpu_client_mode, ParseClientMode(node["cpu_client_mode"], mode));
  return fallback;
}

absl::StatusOr<RetryPolicy> ParseRetryPolicy(const YAML::Node& node, const std::string& text) {
  for (RetryPolicy policy :
       {RetryPolicy::kSameServer, RetryPolicy::kAnotherServer, RetryPolicy::kFallback}) {
    if (text == RetryPolicyName(policy)) return policy;
  }
  return Fields().Error(node, absl::StrCat("retry_policy '", text,
                                           "' is not same_server, another_server or fallback"));
}

absl::Status ParseLists(const YAML::Node& root, ServiceConfig& config) {
  if (const YAML::Node servers = root["servers"]) {
    if (!servers.IsSequence()) return Fields().Error(servers, "servers must be a list");
    std::set<std::string> names;
    for (size_t i = 0; i < servers.size(); ++i) {
      SONIC_ASSIGN_OR_RETURN(ServerConfig server, ParseServer(servers[i], i));
      if (!names.insert(server.name).second) {
        return Fields().Error(servers[i],
                              absl::StrCat("duplicate server name '", server.name, "'"));
      }
      config.servers.push_back(std::move(server));
    }
  }
  if (const YAML::Node models = root["models"]) {
    if (!models.IsSequence()) return Fields().Error(models, "models must be a list");
    for (size_t i = 0; i < models.size(); ++i) {
      SONIC_ASSIGN_OR_RETURN(ModelDeclaration model, ParseModel(models[i], i));
      config.models.push_back(std::move(model));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServiceConfig> ParseServiceConfigNode(const YAML::Node& root) {
  ServiceConfig config;
  if (root.IsNull()) return config;
  SONIC_RETURN_IF_ERROR(Fields().CheckKeys(root, "the service config",
                                           {"servers", "models", "preferred_server", "retry_policy",
                                            "probe_interval_seconds", "fallback"}));
  SONIC_RETURN_IF_ERROR(ParseLists(root, config));
  SONIC_ASSIGN_OR_RETURN(config.preferred_server,
                         Fields().String(root, "preferred_server", "config", false));
  SONIC_ASSIGN_OR_RETURN(std::string policy,
                         Fields().String(root, "retry_policy", "config", false));
  if (!policy.empty()) {
    SONIC_ASSIGN_OR_RETURN(config.retry_policy, ParseRetryPolicy(root["retry_policy"], policy));
  }
  SONIC_ASSIGN_OR_RETURN(double interval,
                         Fields().Number(root, "probe_interval_seconds", "config",
                                         absl::ToDoubleSeconds(config.probe_interval)));
  config.probe_interval = absl::Seconds(interval);
  if (const YAML::Node fallback = root["fallback"]) {
    SONIC_ASSIGN_OR_RETURN(config.fallback, ParseFallback(fallback));
  }
  return config;
}

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
  SONIC_ASSIGN_OR_RETURN(YAML::Node root, Fields().Load(std::string(yaml)));
  return ParseServiceConfigNode(root);
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
  const std::vector<std::string> entries =
      absl::StrSplit(value == nullptr ? "" : value, ',', absl::SkipWhitespace());
  for (const std::string& entry : entries) {
    std::string address(absl::StripAsciiWhitespace(entry));
    if (address.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(kServerAddressEnv, ": '", address, "' is not host:port"));
    }
    servers.push_back({absl::StrCat("env", servers.size()), address, {}});
  }
  const char* host = std::getenv(kLocalBalancerHostEnv);
  const char* port = std::getenv(kLocalBalancerPortEnv);
  const bool has_host = host != nullptr && *host != '\0';
  const bool has_port = port != nullptr && *port != '\0';
  if (has_host != has_port) {
    return absl::InvalidArgumentError(absl::StrCat(
        kLocalBalancerHostEnv, " and ", kLocalBalancerPortEnv, " must be set together (",
        has_host ? kLocalBalancerPortEnv : kLocalBalancerHostEnv, " is missing)"));
  }
  if (has_host) servers.push_back({kLocalBalancerName, absl::StrCat(host, ":", port), {}});
  if (const char* token = std::getenv(kServerTokenFileEnv); token != nullptr && *token != '\0') {
    for (ServerConfig& server : servers) server.tls.token_file = token;
  }
  return servers;
}

}  // namespace sonic::service
