#include "server/frontend/infer_response_builder.h"

#include <string>
#include <utility>

#include "sonic/common/data_type.h"

namespace sonic::server {

void BuildInferResponse(InferenceResponse&& response, inference::ModelInferResponse& message) {
  message.set_model_name(std::move(response.model_name));
  message.set_model_version(std::to_string(response.model_version));
  message.set_id(std::move(response.id));
  const int count = static_cast<int>(response.outputs.size());
  message.mutable_outputs()->Reserve(message.outputs_size() + count);
  message.mutable_raw_output_contents()->Reserve(message.raw_output_contents_size() + count);
  for (OutputTensor& output : response.outputs) {
    inference::ModelInferResponse::InferOutputTensor* tensor = message.add_outputs();
    tensor->set_name(std::move(output.name));
    tensor->set_datatype(std::string(WireName(output.type)));
    tensor->mutable_shape()->Add(output.shape.begin(), output.shape.end());
    message.add_raw_output_contents(std::move(output.data));
  }
}

}  // namespace sonic::server
