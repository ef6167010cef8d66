#include "fallback_repository.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "inference/model_config.pb.h"
#include "sonic/common/status.h"

namespace sonic::service::internal {
namespace {

constexpr char kThreadParameter[] = "INTRA_OP_THREAD_COUNT";

absl::StatusOr<std::string> ReadConfig(const ModelDeclaration& model) {
  const std::filesystem::path file = model.directory / "config.pbtxt";
  std::ifstream in(file);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", model.name, "': cannot read ", file.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteModel(const std::filesystem::path& target, const ModelDeclaration& model,
                        const std::string& config) {
  std::error_code error;
  std::filesystem::create_directories(target, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", target.string(), ": ", error.message()));
  }
  {
    std::ofstream out(target / "config.pbtxt");
    out << config;
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", target.string()));
  }
  const std::filesystem::path source = std::filesystem::absolute(model.directory);
  for (const auto& entry : std::filesystem::directory_iterator(source, error)) {
    if (entry.path().filename() == "config.pbtxt") continue;
    std::filesystem::create_symlink(entry.path(), target / entry.path().filename(), error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot link ", entry.path().string(), ": ", error.message()));
    }
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot list ", source.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace

int InstanceCount(const std::string& config_text) {
  inference::ModelConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(config_text, &config)) return 1;
  if (config.instance_group_size() == 0) return 1;
  int count = 0;
  for (const auto& group : config.instance_group()) count += std::max(1, group.count());
  return count;
}

std::string WithThreadCount(const std::string& config_text, int threads) {
  inference::ModelConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(config_text, &config)) return config_text;
  if (config.parameters().count(kThreadParameter)) return config_text;
  (*config.mutable_parameters())[kThreadParameter].set_string_value(absl::StrCat(threads));
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(config, &text)) return config_text;
  return text;
}

absl::StatusOr<WrittenModels> WriteFallbackRepository(const std::filesystem::path& repository,
                                                      const std::vector<ModelDeclaration>& models,
                                                      int cores, int other_instances) {
  std::vector<std::string> configs;
  WrittenModels written;
  for (const ModelDeclaration& model : models) {
    if (model.name.empty()) return absl::InvalidArgumentError("a model without a name");
    SONIC_ASSIGN_OR_RETURN(std::string config, ReadConfig(model));
    written.instances += InstanceCount(config);
    configs.push_back(std::move(config));
  }
  written.threads_per_instance =
      std::max(1, cores / std::max(1, written.instances + other_instances));
  for (size_t i = 0; i < models.size(); ++i) {
    const std::filesystem::path target = repository / models[i].name;
    std::error_code error;
    std::filesystem::remove_all(target, error);  // links only: their targets stay
    SONIC_RETURN_IF_ERROR(
        WriteModel(target, models[i], WithThreadCount(configs[i], written.threads_per_instance)));
  }
  return written;
}

}  // namespace sonic::service::internal
