#include "demonstrator/job/job_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/yaml_fields.h"
#include "demonstrator/job/module_types.h"
#include "service/service_config_yaml.h"
#include "sonic/common/status.h"

namespace sonic::demo {
namespace {

const yaml::Fields& Fields() {
  static const yaml::Fields fields("job config");
  return fields;
}

absl::StatusOr<int64_t> Integer(const YAML::Node& node, const std::string& key,
                                std::string_view context, int64_t fallback, int64_t minimum) {
  SONIC_ASSIGN_OR_RETURN(double value,
                         Fields().Number(node, key, context, static_cast<double>(fallback)));
  if (value != static_cast<double>(static_cast<int64_t>(value)) ||
      static_cast<int64_t>(value) < minimum) {
    return Fields().Error(node[key], absl::StrCat(std::string(context), ".", key,
                                                  " must be a whole number >= ", minimum));
  }
  return static_cast<int64_t>(value);
}

template <typename Enum, size_t N>
absl::StatusOr<Enum> Choice(const YAML::Node& node, const std::string& key,
                            std::string_view context,
                            const std::pair<std::string_view, Enum> (&choices)[N], Enum fallback) {
  SONIC_ASSIGN_OR_RETURN(std::string text, Fields().String(node, key, context, false));
  if (text.empty()) return fallback;
  std::string known;
  for (const auto& [name, value] : choices) {
    if (text == name) return value;
    absl::StrAppend(&known, known.empty() ? "" : ", ", std::string(name));
  }
  return Fields().Error(node[key], absl::StrCat(std::string(context), ".", key, " '", text,
                                                "' is not one of ", known));
}

// [{target: same_server, tries: 1}, ...] (tries default 1).
absl::StatusOr<client::RetryChain> ParseRetryChain(const YAML::Node& node,
                                                   const std::string& context) {
  if (!node.IsSequence()) return Fields().Error(node, context + " must be a list");
  constexpr std::pair<std::string_view, client::RetryTarget> kTargets[] = {
      {"resolver", client::RetryTarget::kResolver},
      {"same_server", client::RetryTarget::kSameServer},
      {"another_server", client::RetryTarget::kAnotherServer},
      {"fallback", client::RetryTarget::kFallback}};
  client::RetryChain chain;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string step_context = absl::StrCat(context, "[", i, "]");
    SONIC_RETURN_IF_ERROR(Fields().CheckKeys(node[i], step_context, {"target", "tries"}));
    client::RetryStep step;
    SONIC_ASSIGN_OR_RETURN(step.target,
                           Choice(node[i], "target", step_context, kTargets, step.target));
    SONIC_ASSIGN_OR_RETURN(int64_t tries, Integer(node[i], "tries", step_context, 1, 1));
    step.tries = static_cast<int>(tries);
    chain.push_back(step);
  }
  return chain;
}

absl::StatusOr<ClientSettings> ParseClient(const YAML::Node& node, std::string_view context,
                                           ClientSettings settings) {
  if (!node) return settings;
  SONIC_RETURN_IF_ERROR(Fields().CheckKeys(
      node, context,
      {"mode", "allowed_tries", "retry_chain", "timeout_ms", "compression", "shared_memory"}));
  constexpr std::pair<std::string_view, client::SonicMode> kModes[] = {
      {"Sync", client::SonicMode::kSync},
      {"Async", client::SonicMode::kAsync},
      {"PseudoAsync", client::SonicMode::kPseudoAsync}};
  constexpr std::pair<std::string_view, client::Compression> kCompressions[] = {
      {"none", client::Compression::kNone},
      {"deflate", client::Compression::kDeflate},
      {"gzip", client::Compression::kGzip}};
  constexpr std::pair<std::string_view, client::SharedMemoryMode> kSharedMemory[] = {
      {"auto", client::SharedMemoryMode::kAuto}, {"off", client::SharedMemoryMode::kOff}};
  SONIC_ASSIGN_OR_RETURN(settings.mode, Choice(node, "mode", context, kModes, settings.mode));
  SONIC_ASSIGN_OR_RETURN(int64_t tries,
                         Integer(node, "allowed_tries", context, settings.allowed_tries, 1));
  settings.allowed_tries = static_cast<int>(tries);
  if (const YAML::Node chain = node["retry_chain"]) {
    SONIC_ASSIGN_OR_RETURN(
        settings.retry_chain,
        ParseRetryChain(chain, absl::StrCat(std::string(context), ".retry_chain")));
  }
  SONIC_ASSIGN_OR_RETURN(int64_t timeout, Integer(node, "timeout_ms", context,
                                                  static_cast<int64_t>(settings.timeout_ms), 0));
  settings.timeout_ms = static_cast<uint64_t>(timeout);
  SONIC_ASSIGN_OR_RETURN(settings.compression,
                         Choice(node, "compression", context, kCompressions, settings.compression));
  SONIC_ASSIGN_OR_RETURN(settings.shared_memory, Choice(node, "shared_memory", context,
                                                        kSharedMemory, settings.shared_memory));
  return settings;
}

absl::StatusOr<ModuleConfig> ParseModule(const YAML::Node& node, size_t index,
                                         const ClientSettings& defaults) {
  const std::string context = absl::StrCat("modules[", index, "]");
  if (!node.IsMap()) return Fields().Error(node, absl::StrCat(context, " must be a map"));
  ModuleConfig module;
  SONIC_ASSIGN_OR_RETURN(module.type, Fields().String(node, "type", context, true));
  const ModuleType* type = FindModuleType(module.type);
  if (type == nullptr) {
    std::string known;
    for (const ModuleType& known_type : ModuleTypes()) {
      absl::StrAppend(&known, known.empty() ? "" : ", ", std::string(known_type.name));
    }
    return Fields().Error(node["type"],
                          absl::StrCat(context, ".type '", module.type, "' is not one of ", known));
  }
  std::set<std::string> allowed(type->parameters.begin(), type->parameters.end());
  allowed.insert({"type", "label"});
  if (type->runs_model) allowed.insert({"model", "client"});
  SONIC_RETURN_IF_ERROR(Fields().CheckKeys(node, context, allowed));
  SONIC_ASSIGN_OR_RETURN(module.label, Fields().String(node, "label", context, false));
  if (module.label.empty()) module.label = module.type;
  SONIC_ASSIGN_OR_RETURN(module.model, Fields().String(node, "model", context, false));
  SONIC_ASSIGN_OR_RETURN(module.client, ParseClient(node["client"], context + ".client", defaults));
  for (const std::string& key : type->parameters) {
    SONIC_ASSIGN_OR_RETURN(std::string value, Fields().String(node, key, context, false));
    if (!value.empty()) module.parameters[key] = value;
  }
  return module;
}

absl::StatusOr<JobConfig> ParseRoot(const YAML::Node& root, const std::filesystem::path& base) {
  JobConfig config;
  SONIC_RETURN_IF_ERROR(Fields().CheckKeys(root, "the job config",
                                           {"source", "threads", "concurrent_events", "mode",
                                            "models", "client", "service", "modules"}));
  if (const YAML::Node source = root["source"]) {
    SONIC_RETURN_IF_ERROR(Fields().CheckKeys(source, "source", {"events", "seed", "first_event"}));
    SONIC_ASSIGN_OR_RETURN(int64_t events, Integer(source, "events", "source", 100, 0));
    SONIC_ASSIGN_OR_RETURN(int64_t seed, Integer(source, "seed", "source", 1, 0));
    SONIC_ASSIGN_OR_RETURN(int64_t first, Integer(source, "first_event", "source", 0, 0));
    config.events = static_cast<uint64_t>(events);
    config.seed = static_cast<uint64_t>(seed);
    config.first_event = static_cast<uint64_t>(first);
  }
  SONIC_ASSIGN_OR_RETURN(int64_t threads, Integer(root, "threads", "config", 1, 1));
  SONIC_ASSIGN_OR_RETURN(int64_t streams, Integer(root, "concurrent_events", "config", 1, 1));
  config.threads = static_cast<int>(threads);
  config.concurrent_events = static_cast<int>(streams);
  SONIC_ASSIGN_OR_RETURN(std::string mode, Fields().String(root, "mode", "config", false));
  if (!mode.empty()) {
    absl::StatusOr<InferenceMode> parsed = ParseInferenceMode(mode);
    if (!parsed.ok()) return Fields().Error(root["mode"], std::string(parsed.status().message()));
    config.mode = *parsed;
  }
  SONIC_ASSIGN_OR_RETURN(std::string models, Fields().String(root, "models", "config", false));
  config.models = models.empty() ? base / "models" : base / models;
  SONIC_ASSIGN_OR_RETURN(config.client, ParseClient(root["client"], "client", {}));
  if (const YAML::Node service = root["service"]) {
    SONIC_ASSIGN_OR_RETURN(config.service, service::ParseServiceConfigNode(service));
  }
  const YAML::Node modules = root["modules"];
  if (!modules || !modules.IsSequence() || modules.size() == 0) {
    return Fields().Error(modules ? modules : root, "modules must be a non-empty list");
  }
  std::set<std::string> labels;
  for (size_t i = 0; i < modules.size(); ++i) {
    SONIC_ASSIGN_OR_RETURN(ModuleConfig module, ParseModule(modules[i], i, config.client));
    if (!labels.insert(module.label).second) {
      return Fields().Error(modules[i],
                            absl::StrCat("duplicate module label '", module.label, "'"));
    }
    config.modules.push_back(std::move(module));
  }
  return config;
}

}  // namespace

std::string_view InferenceModeName(InferenceMode mode) {
  return mode == InferenceMode::kDirect ? "direct" : "sonic";
}

absl::StatusOr<InferenceMode> ParseInferenceMode(std::string_view text) {
  if (text == "direct") return InferenceMode::kDirect;
  if (text == "sonic") return InferenceMode::kSonic;
  return absl::InvalidArgumentError(
      absl::StrCat("mode '", std::string(text), "' is not direct or sonic"));
}

absl::StatusOr<JobConfig> ParseJobConfig(std::string_view yaml,
                                         const std::filesystem::path& base_dir) {
  SONIC_ASSIGN_OR_RETURN(YAML::Node root, Fields().Load(std::string(yaml)));
  return ParseRoot(root, base_dir);
}

absl::StatusOr<JobConfig> LoadJobConfig(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("job config: cannot read ", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<JobConfig> config =
      ParseJobConfig(text.str(), std::filesystem::absolute(file).parent_path());
  if (!config.ok()) return Annotate(config.status(), file.string());
  return config;
}

}  // namespace sonic::demo
