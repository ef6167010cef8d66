#include "server/local/local_model.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "server/backend/backend_model.h"
#include "server/backend/backend_registry.h"
#include "server/core/batch_assembly.h"
#include "server/core/batch_executor.h"
#include "server/core/clock.h"
#include "server/core/model_signature.h"
#include "server/core/model_statistics.h"
#include "server/repository/model_config_loader.h"
#include "server/repository/version_policy.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

// The numeric version folders of a model directory.
std::vector<int64_t> VersionFolders(const std::filesystem::path& model_dir) {
  std::vector<int64_t> versions;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(model_dir, error)) {
    if (!entry.is_directory(error)) continue;
    const std::string name = entry.path().filename().string();
    int64_t version = 0;
    auto [end, code] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (code == std::errc() && end == name.data() + name.size() && version > 0) {
      versions.push_back(version);
    }
  }
  return versions;
}

}  // namespace

LocalModel::~LocalModel() {
  // The executor borrows the instance, which borrows the model: destroy in that order.
  executor_.reset();
  instance_.reset();
  model_.reset();
}

absl::StatusOr<std::unique_ptr<LocalModel>> LocalModel::Load(
    const std::filesystem::path& model_dir, int64_t version,
    const std::filesystem::path& backend_directory) {
  std::unique_ptr<LocalModel> local(new LocalModel());
  SONIC_ASSIGN_OR_RETURN(local->config_, LoadModelConfig(model_dir));
  const std::string& name = local->config_.name();
  if (version == 0) {
    std::vector<int64_t> served =
        SelectVersions(local->config_.version_policy(), VersionFolders(model_dir));
    if (served.empty()) {
      return absl::NotFoundError(absl::StrCat("model '", name, "': no version folder in ",
                                              model_dir.string(), " is served"));
    }
    version = served.back();
  }
  local->version_ = version;
  // The server's default bound (--max-input-elements); direct inference does not check requests
  // against it.
  SONIC_ASSIGN_OR_RETURN(local->signature_,
                         ModelSignature::Create(local->config_, uint64_t{1} << 26));
  SONIC_ASSIGN_OR_RETURN(local->registry_, BackendRegistry::Create({backend_directory}));
  SONIC_ASSIGN_OR_RETURN(const SonicBackendApi* api, local->registry_->Get(local->config_.backend()));
  SONIC_ASSIGN_OR_RETURN(local->model_,
                         BackendModel::Create(api, name, version,
                                              model_dir / std::to_string(version), local->config_));
  SONIC_ASSIGN_OR_RETURN(local->instance_,
                         BackendInstance::Create(*local->model_, absl::StrCat(name, "_local"),
                                                 SONIC_BACKEND_INSTANCE_CPU, -1));
  local->statistics_ = std::make_unique<ModelStatistics>();
  local->executor_ = std::make_unique<BatchExecutor>(*local->signature_, version, *local->instance_,
                                                     *local->statistics_, SystemClock::Get());
  return local;
}

absl::StatusOr<std::unique_ptr<InferenceRequest>> LocalModel::MakeRequest(
    const LocalRequest& inputs, std::span<const std::string> outputs) const {
  const std::string model = absl::StrCat("model '", config_.name(), "'");
  const bool batched = config_.max_batch_size() > 0;
  auto request = std::make_unique<InferenceRequest>();
  request->batch_size = batched ? -1 : 1;
  // In config order, as the server's parser delivers them.
  for (const ModelSignature::Input& config_input : signature_->inputs()) {
    auto it = std::find_if(inputs.begin(), inputs.end(),
                           [&](const RequestInput& in) { return in.name == config_input.name; });
    if (it == inputs.end()) {
      if (config_input.optional) continue;
      return absl::InvalidArgumentError(
          absl::StrCat(model, " needs input '", config_input.name, "'"));
    }
    const std::string what = absl::StrCat(model, " input '", it->name, "'");
    if (static_cast<int32_t>(it->type) != config_input.data_type) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has datatype ", std::string(WireName(it->type)), ", expected ",
                       inference::DataType_Name(config_input.data_type)));
    }
    const Shape& expected = config_input.client_shape;
    if (!IsConcrete(it->shape) || !MatchesDims(expected, it->shape)) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has shape ", ShapeToString(it->shape),
                                                     ", expected ", ShapeToString(expected)));
    }
    if (batched) {
      if (request->batch_size == -1) request->batch_size = it->shape[0];
      if (it->shape[0] != request->batch_size || it->shape[0] < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has batch size ", it->shape[0], ", expected ",
                         request->batch_size));
      }
    }
    if (it->type != DataType::kBytes) {
      SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(it->shape));
      if (it->data.size() != static_cast<uint64_t>(elements) * ElementSize(it->type)) {
        return absl::InvalidArgumentError(absl::StrCat(what, " of shape ",
                                                       ShapeToString(it->shape), " came with ",
                                                       it->data.size(), " bytes"));
      }
    }
    request->inputs.push_back(*it);
  }
  for (const RequestInput& input : inputs) {
    if (signature_->FindInput(input.name) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(model, " has no input '", input.name, "'"));
    }
  }
  if (outputs.empty()) {
    for (const auto& output : signature_->outputs()) request->outputs.push_back({output.name});
  } else {
    for (const std::string& output : outputs) request->outputs.push_back({output});
  }
  return request;
}

absl::StatusOr<std::vector<std::vector<OutputTensor>>> LocalModel::Execute(
    std::span<const LocalRequest> requests, std::span<const std::string> outputs) {
  const std::string model = absl::StrCat("model '", config_.name(), "'");
  if (requests.empty()) return std::vector<std::vector<OutputTensor>>{};
  if (config_.max_batch_size() <= 0 && requests.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(model, " does not batch: one request per execution"));
  }
  Batch batch;
  int64_t total_batch = 0;
  std::vector<absl::StatusOr<InferenceResponse>> results(requests.size(),
                                                         absl::InternalError("not completed"));
  for (size_t i = 0; i < requests.size(); ++i) {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<InferenceRequest> request,
                           MakeRequest(requests[i], outputs));
    if (!batch.empty() && !CanBatchTogether(*signature_, *batch.front(), *request)) {
      return absl::InvalidArgumentError(absl::StrCat(
          model, ": request ", i, " cannot run in one batch with request 0 (inputs or shapes differ)"));
    }
    total_batch += request->batch_size;
    request->on_complete = [&results, i](absl::StatusOr<InferenceResponse> response) {
      results[i] = std::move(response);
    };
    batch.push_back(std::move(request));
  }
  if (config_.max_batch_size() > 0 && total_batch > config_.max_batch_size()) {
    return absl::InvalidArgumentError(absl::StrCat(model, ": a batch of ", total_batch,
                                                   " exceeds max_batch_size ",
                                                   config_.max_batch_size()));
  }
  for (auto& request : batch) request->arrival_ns = SystemClock::Get().NowNs();
  executor_->Execute(std::move(batch));
  std::vector<std::vector<OutputTensor>> responses;
  responses.reserve(results.size());
  for (auto& result : results) {
    SONIC_RETURN_IF_ERROR(result.status());
    responses.push_back(std::move(result->outputs));
  }
  return responses;
}

}  // namespace sonic::server
