// A module written the way a CMSSW SonicTriton producer is (a SonicEDProducer<TritonClient>, such
// as ParticleNetSonicJetTagsProducer), compiled against the public headers (include/sonic/)
// only: its target sees no other include path. It keeps CMSSW's call sequence:
//
//   constructor  the client from the job's TritonService (its server for the model, the
//                module's preferred server, allowedTries), as CMSSW's client from the service
//   acquire      client.setBatchSize(jets); input.setShape(0, features); input.allocate<float>();
//                fill one vector per jet; input.toServer(data); client.dispatch(holder)
//   produce      output.fromServer<float>(); one tag vector per jet into the event; client.reset()
//
// A retry after a server failure (allowedTries) happens inside dispatch, as in CMSSW; the module
// sees only the final outcome. An event without jets sends nothing (batch size 0).
//
// Event products: reads kJetsLabel (JetFeatures); puts kTagsLabel (JetFeatures: the model's
// output per jet), kTriesLabel (int: attempts of the dispatch) and kServerLabel (std::string:
// the server that answered).
//
// Thread-compatible, one instance per stream, as the framework uses modules.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sonic/client/triton_client.h"
#include "sonic/framework/event.h"
#include "sonic/framework/module.h"

namespace cms_style {

using JetFeatures = std::vector<std::vector<float>>;

inline constexpr char kJetsLabel[] = "jets";
inline constexpr char kTagsLabel[] = "jet_tags";
inline constexpr char kTriesLabel[] = "sonic_tries";
inline constexpr char kServerLabel[] = "sonic_server";

class JetTagsSonicProducer final : public sonic::framework::Module {
 public:
  // Connects (TritonClient::Create's errors). The model takes `input` FP32 with one variable
  // dimension (the features of a jet) and gives `output` FP32.
  static absl::StatusOr<std::unique_ptr<JetTagsSonicProducer>> Create(
      std::string label, const sonic::client::TritonClient::Options& client_options,
      std::string input, std::string output);

  void acquire(const sonic::framework::Event& event,
               sonic::framework::WaitingTaskHolder holder) override;
  absl::Status produce(sonic::framework::Event& event) override;

  const sonic::client::TritonClient& client() const { return *client_; }

 private:
  JetTagsSonicProducer(std::string label, std::unique_ptr<sonic::client::TritonClient> client,
                       std::string input, std::string output);

  // CMSSW's acquire(iEvent, iSetup, iInput): the inputs of the event.
  absl::Status fillInputs(const sonic::framework::Event& event);

  std::unique_ptr<sonic::client::TritonClient> client_;
  const std::string input_;
  const std::string output_;
};

}  // namespace cms_style
