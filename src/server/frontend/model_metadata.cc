#include "server/frontend/model_metadata.h"

#include <string>

#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic::server {
namespace {

using TensorMetadata = inference::ModelMetadataResponse::TensorMetadata;

void FillTensor(const std::string& name, DataType type, const Shape& dims,
                const ModelSignature& signature, TensorMetadata& tensor) {
  tensor.set_name(name);
  tensor.set_datatype(std::string(WireName(type)));
  if (signature.batched()) tensor.add_shape(kVariableDim);
  tensor.mutable_shape()->Add(dims.begin(), dims.end());
}

}  // namespace

void BuildModelMetadata(const ModelSignature& signature, const std::vector<int64_t>& ready_versions,
                        inference::ModelMetadataResponse& message) {
  message.set_name(signature.model_name());
  for (int64_t version : ready_versions) message.add_versions(std::to_string(version));
  message.set_platform(signature.platform());
  for (const ModelSignature::Input& input : signature.inputs()) {
    if (input.built_by_server) continue;
    FillTensor(input.name, input.type, input.dims, signature, *message.add_inputs());
  }
  for (const ModelSignature::Output& output : signature.outputs()) {
    FillTensor(output.name, output.type, output.dims, signature, *message.add_outputs());
  }
}

}  // namespace sonic::server
