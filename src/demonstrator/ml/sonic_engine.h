// InferenceEngine through SONIC: a TritonClient (Sync, Async or PseudoAsync as its options say)
// to the server TritonService routes the model to.
#pragma once

#include <memory>

#include "demonstrator/ml/inference_engine.h"
#include "sonic/client/triton_client.h"

namespace sonic::demo {

class SonicEngine final : public InferenceEngine {
 public:
  // Connects (TritonClient::Create's errors).
  static absl::StatusOr<std::unique_ptr<SonicEngine>> Create(
      const client::TritonClient::Options& options);

  const std::string& modelName() const override { return client_->modelName(); }
  absl::Status setInput(const NamedInput& input) override;
  void infer(std::function<void(absl::Status)> done) override;
  absl::StatusOr<FloatOutput> output(std::string_view name) const override;
  void reset() override { client_->reset(); }

  client::TritonClient& client() { return *client_; }

 private:
  explicit SonicEngine(std::unique_ptr<client::TritonClient> client)
      : client_(std::move(client)) {}
  std::unique_ptr<client::TritonClient> client_;
};

}  // namespace sonic::demo
