#include "demonstrator/ml/ml_producers.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "demonstrator/ml/features.h"
#include "demonstrator/models/model_shapes.h"
#include "sonic/common/status.h"

namespace sonic::demo {
namespace {

using namespace models;

// The output's entries as vectors, checking each has `width` values (0: any).
absl::StatusOr<std::vector<std::vector<float>>> Rows(const InferenceEngine& engine,
                                                     std::string_view name, size_t entries,
                                                     size_t width) {
  SONIC_ASSIGN_OR_RETURN(FloatOutput output, engine.output(name));
  if (output.values.size() != entries) {
    return absl::InternalError(absl::StrCat("model '", engine.modelName(), "' output '",
                                            std::string(name), "' has ", output.values.size(),
                                            " entries, expected ", entries));
  }
  std::vector<std::vector<float>> rows;
  rows.reserve(entries);
  for (std::span<const float> values : output.values) {
    if (width != 0 && values.size() != width) {
      return absl::InternalError(absl::StrCat("model '", engine.modelName(), "' output '",
                                              std::string(name), "' has ", values.size(),
                                              " values per entry, expected ", width));
    }
    rows.emplace_back(values.begin(), values.end());
  }
  return rows;
}

float Ratio(float a, float b) { return a + b > 0 ? a / (a + b) : 0.0f; }

}  // namespace

void MlProducer::acquire(const framework::Event& event, framework::WaitingTaskHolder holder) {
  absl::StatusOr<const EventData*> data = event.get<EventData>(kEventDataLabel);
  if (!data.ok()) return holder.doneWaiting(data.status());
  engine_->reset();
  std::vector<NamedInput> model_inputs = inputs(**data);
  ran_ = !model_inputs.empty() && !model_inputs.front().shapes.empty();
  if (!ran_) return holder.doneWaiting(absl::OkStatus());
  for (const NamedInput& input : model_inputs) {
    absl::Status status = engine_->setInput(input);
    if (!status.ok()) return holder.doneWaiting(status);
  }
  engine_->infer([holder](absl::Status status) { holder.doneWaiting(std::move(status)); });
}

absl::Status MlProducer::produce(framework::Event& event) {
  SONIC_ASSIGN_OR_RETURN(const EventData* data, event.get<EventData>(kEventDataLabel));
  absl::StatusOr<MlProduct> result = product(*data, *engine_, ran_);
  engine_->reset();
  SONIC_RETURN_IF_ERROR(result.status());
  event.put(label(), *std::move(result));
  return absl::OkStatus();
}

std::vector<NamedInput> ParticleNetProducer::inputs(const EventData& event) const {
  return ParticleNetInputs(event, Jets(event, jets_), padded_);
}

absl::StatusOr<MlProduct> ParticleNetProducer::product(const EventData& event,
                                                       const InferenceEngine& engine,
                                                       bool ran) const {
  MlProduct product{absl::StrCat(std::string(JetCollectionName(jets_)), " jets"), {}};
  const size_t jets = Jets(event, jets_).size();
  std::vector<std::vector<float>> scores;
  if (ran) {
    SONIC_ASSIGN_OR_RETURN(scores, Rows(engine, kScores, jets, kParticleNetClasses));
  }
  auto& b_vs_udsg = product.quantities["b_vs_udsg"];
  auto& top_vs_qcd = product.quantities["top_vs_qcd"];
  for (const std::vector<float>& p : scores) {  // classes b, c, uds, g, top
    b_vs_udsg.push_back({Ratio(p[0], p[2] + p[3])});
    top_vs_qcd.push_back({Ratio(p[4], p[2] + p[3])});
  }
  product.quantities["scores"] = std::move(scores);
  return product;
}

std::vector<NamedInput> DeepMetProducer::inputs(const EventData& event) const {
  if (event.candidates.empty()) return {};
  return DeepMetInputs(event);
}

absl::StatusOr<MlProduct> DeepMetProducer::product(const EventData& event,
                                                   const InferenceEngine& engine,
                                                   bool ran) const {
  MlProduct product{"events", {}};
  std::vector<std::vector<float>> met = {{0, 0}};
  std::vector<std::vector<float>> weights = {{}};
  if (ran) {
    SONIC_ASSIGN_OR_RETURN(met, Rows(engine, kMet, 1, 2));
    SONIC_ASSIGN_OR_RETURN(weights, Rows(engine, kWeights, 1, event.candidates.size()));
  }
  product.quantities["met_pt_phi"] = {
      {std::hypot(met[0][0], met[0][1]), std::atan2(met[0][1], met[0][0])}};
  product.quantities["met"] = std::move(met);
  product.quantities["weights"] = std::move(weights);
  return product;
}

std::vector<NamedInput> DeepTauProducer::inputs(const EventData& event) const {
  return DeepTauInputs(event);
}

absl::StatusOr<MlProduct> DeepTauProducer::product(const EventData& event,
                                                   const InferenceEngine& engine,
                                                   bool ran) const {
  MlProduct product{"taus", {}};
  std::vector<std::vector<float>> scores;
  if (ran) {
    SONIC_ASSIGN_OR_RETURN(scores, Rows(engine, kScores, event.taus.size(), kDeepTauClasses));
  }
  auto& vs_jet = product.quantities["vs_jet"];
  for (const std::vector<float>& p : scores) vs_jet.push_back({Ratio(p[2], p[3])});  // e mu tau jet
  product.quantities["scores"] = std::move(scores);
  return product;
}

std::vector<NamedInput> PfEchoProducer::inputs(const EventData& event) const {
  NamedInput input{input_, {{static_cast<int64_t>(3 * event.candidates.size())}},
                   std::make_shared<client::TritonInput<float>>(1)};
  std::vector<float>& values = (*input.data)[0];
  for (const PfCandidate& c : event.candidates) values.insert(values.end(), {c.pt, c.eta, c.phi});
  return {std::move(input)};
}

absl::StatusOr<MlProduct> PfEchoProducer::product(const EventData& event,
                                                  const InferenceEngine& engine, bool ran) const {
  MlProduct product{"events", {}};
  std::vector<std::vector<float>> echo = {{}};
  if (ran) {
    SONIC_ASSIGN_OR_RETURN(echo, Rows(engine, output_, 1, 3 * event.candidates.size()));
    for (size_t i = 0; i < event.candidates.size(); ++i) {
      const PfCandidate& c = event.candidates[i];
      if (echo[0][3 * i] != c.pt || echo[0][3 * i + 1] != c.eta || echo[0][3 * i + 2] != c.phi) {
        return absl::DataLossError(absl::StrCat("model '", engine.modelName(),
                                                "' did not echo candidate ", i, " of event ",
                                                event.id));
      }
    }
  }
  product.quantities["echo"] = std::move(echo);
  return product;
}

}  // namespace sonic::demo
