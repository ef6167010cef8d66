#include "server/frontend/model_metadata.h"

#include <string>
#include <string_view>

#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic::server {
namespace {

using TensorMetadata = inference::ModelMetadataResponse::TensorMetadata;

bool IsBatchInputTarget(const inference::ModelConfig& config, std::string_view name) {
  for (const auto& batch_input : config.batch_input()) {
    for (const std::string& target : batch_input.target_name()) {
      if (target == name) return true;
    }
  }
  return false;
}

void FillTensor(const std::string& name, int32_t data_type,
                const google::protobuf::RepeatedField<int64_t>& dims,
                const inference::ModelConfig& config, TensorMetadata& tensor) {
  tensor.set_name(name);
  tensor.set_datatype(
      std::string(WireName(DataTypeFromNumber(data_type).value_or(DataType::kInvalid))));
  if (config.max_batch_size() > 0) tensor.add_shape(kVariableDim);
  tensor.mutable_shape()->Add(dims.begin(), dims.end());
}

}  // namespace

void BuildModelMetadata(const inference::ModelConfig& config,
                        const std::vector<int64_t>& ready_versions,
                        inference::ModelMetadataResponse& message) {
  message.set_name(config.name());
  for (int64_t version : ready_versions) message.add_versions(std::to_string(version));
  message.set_platform(config.platform().empty() ? config.backend() : config.platform());
  for (const inference::ModelInput& input : config.input()) {
    if (IsBatchInputTarget(config, input.name())) continue;
    FillTensor(input.name(), input.data_type(), input.dims(), config, *message.add_inputs());
  }
  for (const inference::ModelOutput& output : config.output()) {
    FillTensor(output.name(), output.data_type(), output.dims(), config, *message.add_outputs());
  }
}

}  // namespace sonic::server
