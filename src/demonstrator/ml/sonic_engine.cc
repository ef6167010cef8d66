#include "demonstrator/ml/sonic_engine.h"

#include "sonic/common/status.h"

namespace sonic::demo {

absl::StatusOr<std::unique_ptr<SonicEngine>> SonicEngine::Create(
    const client::TritonClient::Options& options) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<client::TritonClient> client,
                         client::TritonClient::Create(options));
  return std::unique_ptr<SonicEngine>(new SonicEngine(std::move(client)));
}

absl::Status SonicEngine::setInput(const NamedInput& input) {
  SONIC_ASSIGN_OR_RETURN(client::TritonInputData * data, client_->input(input.name));
  if (client_->batchSize() != input.shapes.size()) client_->setBatchSize(input.shapes.size());
  for (size_t entry = 0; entry < input.shapes.size(); ++entry) {
    SONIC_RETURN_IF_ERROR(data->setShape(input.shapes[entry], entry));
  }
  return data->toServer(input.data);
}

void SonicEngine::infer(std::function<void(absl::Status)> done) {
  client_->dispatch(std::move(done));
}

absl::StatusOr<FloatOutput> SonicEngine::output(std::string_view name) const {
  SONIC_ASSIGN_OR_RETURN(const client::TritonOutputData* data, client_->output(name));
  FloatOutput result;
  SONIC_ASSIGN_OR_RETURN(result.values, data->fromServer<float>());
  result.shapes.reserve(result.values.size());
  for (size_t entry = 0; entry < result.values.size(); ++entry) {
    SONIC_ASSIGN_OR_RETURN(Shape shape, data->shape(entry));
    result.shapes.push_back(std::move(shape));
  }
  return result;
}

}  // namespace sonic::demo
