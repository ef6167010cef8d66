// The demonstrator's ML modules. Each takes the event's objects (EventData under
// kEventDataLabel), fills its model's inputs (features.h) in acquire, runs the model through its
// InferenceEngine (SONIC or direct), and in produce turns the outputs into an MlProduct under its
// own label. An event without objects for the model (no jets, no taus) sends nothing.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "demonstrator/events/event_data.h"
#include "demonstrator/ml/inference_engine.h"
#include "sonic/framework/module.h"

namespace sonic::demo {

// What an ML module puts into the event: per quantity, one vector of values per object (a jet,
// a tau, or the event itself). Raw model outputs and the physics quantities derived from them.
struct MlProduct {
  std::string objects;  // e.g. "ak4 jets", "taus", "events"
  std::map<std::string, std::vector<std::vector<float>>> quantities;
};

class MlProducer : public framework::Module {
 public:
  MlProducer(std::string label, std::unique_ptr<InferenceEngine> engine)
      : Module(std::move(label)), engine_(std::move(engine)) {}

  void acquire(const framework::Event& event, framework::WaitingTaskHolder holder) final;
  absl::Status produce(framework::Event& event) final;

 protected:
  // The model's inputs for the event; no entries means nothing to run.
  virtual std::vector<NamedInput> inputs(const EventData& event) const = 0;
  // The product from the model's outputs (`engine` holds them) or, with `ran` false, for an
  // event that had no objects.
  virtual absl::StatusOr<MlProduct> product(const EventData& event, const InferenceEngine& engine,
                                            bool ran) const = 0;

 private:
  std::unique_ptr<InferenceEngine> engine_;
  bool ran_ = false;
};

// Class probabilities per jet ("scores"), and the b-tagging and top-tagging discriminants
// ("b_vs_udsg" = P(b) / (P(b) + P(uds) + P(g)); "top_vs_qcd" = P(top) / (P(top) + P(uds) + P(g))).
// `padded`: the model takes the padded inputs (else the ragged ones).
class ParticleNetProducer final : public MlProducer {
 public:
  ParticleNetProducer(std::string label, std::unique_ptr<InferenceEngine> engine,
                      JetCollection jets, bool padded)
      : MlProducer(std::move(label), std::move(engine)), jets_(jets), padded_(padded) {}

 private:
  std::vector<NamedInput> inputs(const EventData& event) const override;
  absl::StatusOr<MlProduct> product(const EventData& event, const InferenceEngine& engine,
                                    bool ran) const override;
  JetCollection jets_;
  bool padded_;
};

// The event's missing transverse momentum: "met" (px, py), "met_pt_phi", and the per-candidate
// "weights" (one object: the event).
class DeepMetProducer final : public MlProducer {
 public:
  using MlProducer::MlProducer;

 private:
  std::vector<NamedInput> inputs(const EventData& event) const override;
  absl::StatusOr<MlProduct> product(const EventData& event, const InferenceEngine& engine,
                                    bool ran) const override;
};

// Class probabilities per tau ("scores") and "vs_jet" = P(tau) / (P(tau) + P(jet)).
class DeepTauProducer final : public MlProducer {
 public:
  using MlProducer::MlProducer;

 private:
  std::vector<NamedInput> inputs(const EventData& event) const override;
  absl::StatusOr<MlProduct> product(const EventData& event, const InferenceEngine& engine,
                                    bool ran) const override;
};

// A transport probe: sends every candidate's (pt, eta, phi) to an identity model (one FP32
// input with dims [-1], one output) and checks that they come back unchanged; puts "echo" (the
// values returned) for the event. DATA_LOSS when the echo differs.
class PfEchoProducer final : public MlProducer {
 public:
  PfEchoProducer(std::string label, std::unique_ptr<InferenceEngine> engine, std::string input,
                 std::string output)
      : MlProducer(std::move(label), std::move(engine)),
        input_(std::move(input)),
        output_(std::move(output)) {}

 private:
  std::vector<NamedInput> inputs(const EventData& event) const override;
  absl::StatusOr<MlProduct> product(const EventData& event, const InferenceEngine& engine,
                                    bool ran) const override;
  std::string input_;
  std::string output_;
};

}  // namespace sonic::demo
