#include "cms_style_module.h"

#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace cms_style {

using sonic::client::TritonClient;
using sonic::client::TritonInputContainer;
using sonic::client::TritonInputData;
using sonic::client::TritonOutput;
using sonic::client::TritonOutputData;

absl::StatusOr<std::unique_ptr<JetTagsSonicProducer>> JetTagsSonicProducer::Create(
    std::string label, const TritonClient::Options& client_options, std::string input,
    std::string output) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<TritonClient> client,
                         TritonClient::Create(client_options));
  return std::unique_ptr<JetTagsSonicProducer>(new JetTagsSonicProducer(
      std::move(label), std::move(client), std::move(input), std::move(output)));
}

JetTagsSonicProducer::JetTagsSonicProducer(std::string label, std::unique_ptr<TritonClient> client,
                                           std::string input, std::string output)
    : Module(std::move(label)),
      client_(std::move(client)),
      input_(std::move(input)),
      output_(std::move(output)) {}

absl::Status JetTagsSonicProducer::fillInputs(const sonic::framework::Event& event) {
  SONIC_ASSIGN_OR_RETURN(const JetFeatures* jets, event.get<JetFeatures>(kJetsLabel));
  client_->setBatchSize(jets->size());
  if (jets->empty()) return absl::OkStatus();
  SONIC_ASSIGN_OR_RETURN(TritonInputData * input, client_->input(input_));
  // Every jet has the same number of features: one dimension set for the whole batch.
  SONIC_RETURN_IF_ERROR(input->setShape(0, static_cast<int64_t>(jets->front().size())));
  SONIC_ASSIGN_OR_RETURN(TritonInputContainer<float> data, input->allocate<float>());
  for (size_t jet = 0; jet < jets->size(); ++jet) {
    std::vector<float>& features = (*data)[jet];
    features.insert(features.end(), (*jets)[jet].begin(), (*jets)[jet].end());
  }
  return input->toServer(data);
}

void JetTagsSonicProducer::acquire(const sonic::framework::Event& event,
                                   sonic::framework::WaitingTaskHolder holder) {
  if (absl::Status filled = fillInputs(event); !filled.ok()) {
    holder.doneWaiting(filled);
    return;
  }
  client_->dispatch([holder](absl::Status status) { holder.doneWaiting(std::move(status)); });
}

absl::Status JetTagsSonicProducer::produce(sonic::framework::Event& event) {
  JetFeatures tags;
  if (client_->batchSize() > 0) {
    SONIC_ASSIGN_OR_RETURN(const TritonOutputData* output, client_->output(output_));
    SONIC_ASSIGN_OR_RETURN(TritonOutput<float> values, output->fromServer<float>());
    tags.reserve(values.size());
    for (std::span<const float> jet : values) tags.emplace_back(jet.begin(), jet.end());
  }
  event.put(kTagsLabel, std::move(tags));
  event.put(kTriesLabel, client_->tries());
  event.put(kServerLabel, client_->serverAddress());
  client_->reset();
  return absl::OkStatus();
}

}  // namespace cms_style
