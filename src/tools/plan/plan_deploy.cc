#include "plan_deploy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "inference/model_config.pb.h"
#include "server/repository/model_config_loader.h"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

constexpr char kServer[] = "sonic-server";

// The object of `kind` named sonic-server among the documents of `file`.
absl::StatusOr<YAML::Node> FindObject(const std::filesystem::path& file, const std::string& kind) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    return absl::NotFoundError(absl::StrCat("no ", file.string()));
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAllFromFile(file.string());
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file.string(), ": ", e.what()));
  }
  for (const YAML::Node& document : documents) {
    if (document.IsMap() && document["kind"] && document["kind"].as<std::string>() == kind &&
        document["metadata"]["name"] && document["metadata"]["name"].as<std::string>() == kServer) {
      return YAML::Clone(document);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(file.string(), " has no ", kind, " ", kServer));
}

absl::StatusOr<YAML::Node> ServerContainer(const YAML::Node& deployment) {
  for (YAML::Node container : deployment["spec"]["template"]["spec"]["containers"]) {
    if (container["name"] && container["name"].as<std::string>() == kServer) return container;
  }
  return absl::InvalidArgumentError("the Deployment sonic-server has no container sonic-server");
}

// One pool of identical servers: the groups of devices that hold one set of models.
struct ServerGroup {
  std::string name;  // sonic-server, then sonic-server-g2, ...
  int replicas = 0;  // the sum over its groups of devices of ceil(devices / GPUs per server)
  std::vector<std::string> models;
};

// In the order of the first group of devices of each set of models.
std::vector<ServerGroup> ServerGroups(const Plan& plan) {
  std::vector<ServerGroup> groups;
  std::vector<std::set<size_t>> model_sets;  // of each server group
  for (const DeviceGroup& devices : plan.placement().groups) {
    std::set<size_t> models;
    for (const DeviceShare& share : devices.shares) models.insert(share.model);
    const auto g = static_cast<size_t>(std::find(model_sets.begin(), model_sets.end(), models) -
                                       model_sets.begin());
    if (g == model_sets.size()) {
      model_sets.push_back(models);
      ServerGroup& group = groups.emplace_back();
      group.name = g == 0 ? kServer : absl::StrCat(kServer, "-g", g + 1);
      for (const DeviceShare& share : devices.shares) {
        group.models.push_back(plan.models[share.model].model);
      }
    }
    // A server holds the GPUs of one group of devices, as the plan counts them.
    groups[g].replicas += (devices.count + plan.gpus_per_server - 1) / plan.gpus_per_server;
  }
  return groups;
}

// The base's args without a model control mode, models or config name, then explicit control,
// the plan's configurations (when written) and the group's models.
YAML::Node ServerArgs(const YAML::Node& base_args, const ServerGroup& group, bool model_configs) {
  YAML::Node args(YAML::NodeType::Sequence);
  for (const YAML::Node& arg : base_args) {
    const std::string text = arg.as<std::string>();
    if (absl::StartsWith(text, "--model-control-mode") || absl::StartsWith(text, "--load-model") ||
        absl::StartsWith(text, "--model-config-name")) {
      continue;
    }
    args.push_back(text);
  }
  args.push_back("--model-control-mode=explicit");
  if (model_configs) args.push_back(absl::StrCat("--model-config-name=", kPlanConfigName));
  for (const std::string& model : group.models)
    args.push_back(absl::StrCat("--load-model=", model));
  return args;
}

YAML::Node QuotedScalar(const std::string& text);

// The container's resources: the base's, with the plan's CPU request (when the profiles measured
// the server's CPU) and GPU limit. The same for every server group: the plan sizes each server as
// its busiest one, so a pool of merged groups of devices has the largest of their resources.
YAML::Node ServerResources(const YAML::Node& base, const Plan& plan, const std::string& device) {
  YAML::Node resources = base ? YAML::Clone(base) : YAML::Node(YAML::NodeType::Map);
  if (plan.server_cpu_cores > 0) {
    const int cores = std::max(
        1, static_cast<int>(std::ceil(plan.server_cpu_cores / plan.target_utilization - 1e-9)));
    resources["requests"]["cpu"] = QuotedScalar(absl::StrCat(cores));
  }
  if (device == "gpu") {
    resources["limits"]["nvidia.com/gpu"] = plan.gpus_per_server;
  } else if (resources["limits"] && resources["limits"]["nvidia.com/gpu"]) {
    resources["limits"].remove("nvidia.com/gpu");
  }
  return resources;
}

// Emits `node` keeping quoted scalars quoted (tag "!": Kubernetes needs "4" and "1" as strings
// where the base wrote them so; yaml-cpp's own emitter drops the quotes).
void Emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        Emit(out, entry.first);
        out << YAML::Value;
        Emit(out, entry.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const YAML::Node& item : node) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") out << YAML::DoubleQuoted;
      out << node.Scalar();
      break;
    default:
      out << YAML::Null;
  }
}

// A scalar that stays a string in the YAML written (a Kubernetes quantity).
YAML::Node QuotedScalar(const std::string& text) {
  YAML::Node node(text);
  node.SetTag("!");
  return node;
}

absl::Status WriteYaml(const std::filesystem::path& file, const std::string& comment,
                       const std::vector<YAML::Node>& documents) {
  std::ofstream out(file, std::ios::trunc);
  out << comment;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) out << "---\n";
    YAML::Emitter emitter;
    Emit(emitter, documents[i]);
    out << emitter.c_str() << "\n";
  }
  if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", file.string()));
  return absl::OkStatus();
}

YAML::Node DeploymentPatch(const YAML::Node& container, const ServerGroup& group, const Plan& plan,
                           const DeployOptions& options) {
  YAML::Node patch;
  patch["apiVersion"] = "apps/v1";
  patch["kind"] = "Deployment";
  patch["metadata"]["name"] = kServer;
  patch["spec"]["replicas"] = group.replicas;
  YAML::Node patched;
  patched["name"] = kServer;
  patched["args"] = ServerArgs(container["args"], group, !options.model_repository.empty());
  patched["resources"] = ServerResources(container["resources"], plan, options.device);
  patch["spec"]["template"]["spec"]["containers"].push_back(patched);
  return patch;
}

// The base Deployment as group `group`: its name and labels, replicas, args and resources.
YAML::Node GroupDeployment(const YAML::Node& base, const ServerGroup& group, const Plan& plan,
                           const DeployOptions& options) {
  YAML::Node deployment = YAML::Clone(base);
  deployment["metadata"]["name"] = group.name;
  deployment["metadata"]["labels"]["app.kubernetes.io/name"] = group.name;
  deployment["spec"]["replicas"] = group.replicas;
  deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = group.name;
  deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = group.name;
  for (YAML::Node container : deployment["spec"]["template"]["spec"]["containers"]) {
    if (container["name"].as<std::string>() != kServer) continue;
    container["args"] = ServerArgs(container["args"], group, !options.model_repository.empty());
    container["resources"] = ServerResources(container["resources"], plan, options.device);
  }
  return deployment;
}

YAML::Node GroupService(const ServerGroup& group) {
  YAML::Node service;
  service["apiVersion"] = "v1";
  service["kind"] = "Service";
  service["metadata"]["name"] = group.name;
  service["metadata"]["labels"]["app.kubernetes.io/name"] = group.name;
  service["metadata"]["labels"]["app.kubernetes.io/part-of"] = "sonic";
  service["spec"]["selector"]["app.kubernetes.io/name"] = group.name;
  for (const auto& [name, port] : {std::pair{"http", 8000}, std::pair{"grpc", 8001}}) {
    YAML::Node entry;
    entry["name"] = name;
    entry["port"] = port;
    entry["targetPort"] = name;
    service["spec"]["ports"].push_back(entry);
  }
  return service;
}

// A planned model's config.pbtxt from the repository with the plan's instances and batching.
absl::StatusOr<inference::ModelConfig> PlannedConfig(const ModelLoad& model,
                                                     const DeployOptions& options) {
  const std::filesystem::path file = options.model_repository / model.model / "config.pbtxt";
  std::ifstream in(file);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        "no ", file.string(), ": the model repository lacks planned model ", model.model));
  }
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config,
                         server::ParseModelConfig(text, model.model));
  if (config.instance_group_size() == 0) {
    config.add_instance_group()->set_kind(options.device == "gpu"
                                              ? inference::ModelInstanceGroup::KIND_GPU
                                              : inference::ModelInstanceGroup::KIND_CPU);
  }
  for (inference::ModelInstanceGroup& group : *config.mutable_instance_group()) {
    group.set_count(model.instances);
  }
  if (config.max_batch_size() > 0) {
    inference::ModelDynamicBatching& batching = *config.mutable_dynamic_batching();
    batching.clear_preferred_batch_size();
    batching.add_preferred_batch_size(static_cast<int32_t>(
        std::min<int64_t>(model.preferred_batch_size, config.max_batch_size())));
    batching.set_max_queue_delay_microseconds(
        static_cast<uint64_t>(std::max<int64_t>(0, model.max_queue_delay_us)));
  }
  return config;
}

// DIR/model-repository/<model>/configs/sonic-plan.pbtxt for every planned model.
absl::Status WriteModelConfigs(const Plan& plan, const DeployOptions& options,
                               const std::string& header) {
  for (const ModelLoad& model : plan.models) {
    SONIC_ASSIGN_OR_RETURN(const inference::ModelConfig config, PlannedConfig(model, options));
    const std::filesystem::path dir = options.out / "model-repository" / model.model / "configs";
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    std::string text;
    google::protobuf::TextFormat::PrintToString(config, &text);
    std::ofstream out(dir / absl::StrCat(kPlanConfigName, ".pbtxt"), std::ios::trunc);
    out << header << "# Selected by --model-config-name=" << kPlanConfigName
        << "; copy model-repository/ onto the servers' model repository.\n"
        << text;
    if (error || !out.flush()) {
      return absl::InternalError(
          absl::StrCat("cannot write the configuration of ", model.model, " under ", dir.string()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteDeployment(const Plan& plan, const DeployOptions& options) {
  SONIC_ASSIGN_OR_RETURN(YAML::Node deployment,
                         FindObject(options.base / "sonic-server.yaml", "Deployment"));
  SONIC_ASSIGN_OR_RETURN(YAML::Node scaled,
                         FindObject(options.base / "keda-scaledobject.yaml", "ScaledObject"));
  SONIC_ASSIGN_OR_RETURN(YAML::Node container, ServerContainer(deployment));
  const std::vector<ServerGroup> groups = ServerGroups(plan);
  if (groups.empty()) return absl::InvalidArgumentError("the plan places no devices");
  std::error_code error;
  std::filesystem::create_directories(options.out, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", options.out.string(), ": ", error.message()));
  }
  const std::string header =
      absl::StrCat("# Written by `sonic plan --deploy`: ", plan.servers, " server(s) of ",
                   plan.gpus_per_server, " GPU(s), models ", PlacementName(plan.chosen), ".\n");

  if (!options.model_repository.empty()) {
    SONIC_RETURN_IF_ERROR(WriteModelConfigs(plan, options, header));
  }
  SONIC_RETURN_IF_ERROR(WriteYaml(options.out / "sonic-server.yaml", header,
                                  {DeploymentPatch(container, groups[0], plan, options)}));
  YAML::Node scaling;
  scaling["apiVersion"] = scaled["apiVersion"];
  scaling["kind"] = "ScaledObject";
  scaling["metadata"]["name"] = kServer;
  scaling["spec"]["minReplicaCount"] = groups[0].replicas;
  const int max_replicas =
      scaled["spec"]["maxReplicaCount"] ? scaled["spec"]["maxReplicaCount"].as<int>() : 0;
  scaling["spec"]["maxReplicaCount"] = std::max(max_replicas, groups[0].replicas);
  SONIC_RETURN_IF_ERROR(WriteYaml(options.out / "scaling.yaml", header, {scaling}));

  std::vector<YAML::Node> extra;
  for (size_t g = 1; g < groups.size(); ++g) {
    extra.push_back(GroupDeployment(deployment, groups[g], plan, options));
    extra.push_back(GroupService(groups[g]));
  }
  const std::filesystem::path extra_file = options.out / "server-groups.yaml";
  if (!extra.empty()) {
    SONIC_RETURN_IF_ERROR(
        WriteYaml(extra_file,
                  absl::StrCat(header,
                               "# The server groups after the first, each with its own Service "
                               "(the balancer fronts sonic-server only).\n"),
                  extra));
  } else {
    std::filesystem::remove(extra_file, error);
  }

  const std::filesystem::path base = std::filesystem::absolute(options.base).lexically_normal();
  const std::filesystem::path out = std::filesystem::absolute(options.out).lexically_normal();
  YAML::Node kustomization;
  kustomization["apiVersion"] = "kustomize.config.k8s.io/v1beta1";
  kustomization["kind"] = "Kustomization";
  // The base's namespace for the server groups written here.
  try {
    const YAML::Node base_kustomization =
        YAML::LoadFile((options.base / "kustomization.yaml").string());
    if (base_kustomization["namespace"])
      kustomization["namespace"] = base_kustomization["namespace"];
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat((options.base / "kustomization.yaml").string(), ": ", e.what()));
  }
  kustomization["resources"].push_back(base.lexically_relative(out).string());
  if (!extra.empty()) kustomization["resources"].push_back("server-groups.yaml");
  for (const char* patch : {"sonic-server.yaml", "scaling.yaml"}) {
    YAML::Node entry;
    entry["path"] = patch;
    kustomization["patches"].push_back(entry);
  }
  return WriteYaml(
      options.out / "kustomization.yaml",
      absl::StrCat(header, "# Apply with `kubectl apply -k ", options.out.string(), "`.\n"),
      {kustomization});
}

}  // namespace sonic::tools
