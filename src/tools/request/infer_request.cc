#include "infer_request.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpc_call.h"

namespace sonic::tools {
namespace {

std::string ShapeText(const google::protobuf::RepeatedField<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

bool HasInput(const ModelInterface& model, const std::string& name) {
  const auto& inputs = model.metadata.inputs();
  return std::any_of(inputs.begin(), inputs.end(),
                     [&](const TensorMetadata& input) { return input.name() == name; });
}

}  // namespace

absl::StatusOr<ModelInterface> FetchModelInterface(
    inference::GRPCInferenceService::StubInterface& stub, const std::string& model,
    const std::string& version, absl::Duration deadline, const RpcMetadata& metadata) {
  auto prepare = [&](grpc::ClientContext& context) {
    transport::SetTimeout(context, deadline);
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  };
  ModelInterface interface;
  {
    inference::ModelMetadataRequest request;
    request.set_name(model);
    request.set_version(version);
    grpc::ClientContext context;
    prepare(context);
    grpc::Status status = stub.ModelMetadata(&context, request, &interface.metadata);
    if (!status.ok())
      return transport::FromGrpc(status, absl::StrCat("ModelMetadata(", model, ")"));
  }
  inference::ModelConfigRequest request;
  request.set_name(model);
  request.set_version(version);
  inference::ModelConfigResponse response;
  grpc::ClientContext context;
  prepare(context);
  grpc::Status status = stub.ModelConfig(&context, request, &response);
  if (!status.ok()) return transport::FromGrpc(status, absl::StrCat("ModelConfig(", model, ")"));
  interface.max_batch_size = response.config().max_batch_size();
  interface.response_cache = response.config().response_cache().enable();
  return interface;
}

absl::StatusOr<ShapeOverrides> ParseShapeFlags(const std::vector<std::string>& flags,
                                               const ModelInterface& model) {
  ShapeOverrides shapes;
  for (const std::string& flag : flags) {
    const size_t colon = flag.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == flag.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shape ", flag, ": expected NAME:d1,d2,..."));
    }
    std::string name = flag.substr(0, colon);
    if (!HasInput(model, name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--shape ", flag, ": model '", model.metadata.name(), "' has no input '", name, "'"));
    }
    std::vector<int64_t>& dims = shapes[name];
    for (absl::string_view text : absl::StrSplit(flag.substr(colon + 1), ',')) {
      int64_t dim = 0;
      if (!absl::SimpleAtoi(text, &dim) || dim < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--shape ", flag, ": '", text, "' is not a dimension"));
      }
      dims.push_back(dim);
    }
  }
  return shapes;
}

bool IsBatched(const TensorMetadata& input, const ModelInterface& model) {
  return model.max_batch_size > 0 && !input.shape().empty() && input.shape(0) == -1;
}

absl::StatusOr<std::vector<int64_t>> ResolveInputShape(const TensorMetadata& input,
                                                       const ModelInterface& model,
                                                       const RequestSpec& spec) {
  if (model.max_batch_size <= 0 && spec.batch_size > 1) {
    return absl::InvalidArgumentError(absl::StrCat("model '", model.metadata.name(),
                                                   "' has no batch dimension (max_batch_size 0)"));
  }
  const bool batched = IsBatched(input, model);
  std::vector<int64_t> model_dims(input.shape().begin() + (batched ? 1 : 0), input.shape().end());
  std::vector<int64_t> dims = model_dims;
  if (auto it = spec.shapes.find(input.name()); it != spec.shapes.end()) {
    bool matches = it->second.size() == model_dims.size();
    for (size_t i = 0; matches && i < model_dims.size(); ++i) {
      matches = model_dims[i] == -1 || model_dims[i] == it->second[i];
    }
    if (!matches) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shape ", input.name(), ":", absl::StrJoin(it->second, ","),
                       " does not fit the model's shape ", ShapeText(input.shape()),
                       batched ? " (without its batch dimension)" : ""));
    }
    dims = it->second;
  } else if (std::find(dims.begin(), dims.end(), -1) != dims.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", input.name(), "' has variable dimensions ",
                     ShapeText(input.shape()), ": give them with --shape ", input.name(),
                     ":d1,d2,...", batched ? " (without the batch dimension)" : ""));
  }
  if (batched) dims.insert(dims.begin(), std::max<int64_t>(spec.batch_size, 1));
  return dims;
}

absl::StatusOr<inference::ModelInferRequest> MakeGeneratedRequest(const ModelInterface& model,
                                                                  const RequestSpec& spec,
                                                                  InputData data,
                                                                  std::mt19937_64& rng) {
  inference::ModelInferRequest request;
  request.set_model_name(spec.model_name);
  request.set_model_version(spec.model_version);
  for (const TensorMetadata& input : model.metadata.inputs()) {
    absl::StatusOr<std::vector<int64_t>> dims = ResolveInputShape(input, model, spec);
    if (!dims.ok()) return dims.status();
    int64_t elements = 1;
    for (int64_t dim : *dims) elements *= dim;
    absl::StatusOr<std::string> contents =
        MakeInputContents(input.datatype(), elements, data, rng, spec.string_length);
    if (!contents.ok()) return contents.status();
    auto* tensor = request.add_inputs();
    tensor->set_name(input.name());
    tensor->set_datatype(input.datatype());
    tensor->mutable_shape()->Add(dims->begin(), dims->end());
    *request.add_raw_input_contents() = std::move(*contents);
  }
  return request;
}

}  // namespace sonic::tools
