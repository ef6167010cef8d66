// InferenceEngine in the job's own process: a LocalModel (the server's execution path without
// gRPC or queues). The event's entries are sent as a TritonClient would send them: one batch
// (cut at max_batch_size) when every input has one shape across entries and none is ragged,
// otherwise one request per entry; all of them run as one execution where the model allows.
// infer() runs the model on the calling thread and calls `done` before it returns.
#pragma once

#include <filesystem>
#include <map>
#include <memory>

#include "demonstrator/ml/inference_engine.h"
#include "server/local/local_model.h"

namespace sonic::demo {

class DirectEngine final : public InferenceEngine {
 public:
  // LocalModel::Load's errors.
  static absl::StatusOr<std::unique_ptr<DirectEngine>> Create(
      const std::filesystem::path& model_dir);

  const std::string& modelName() const override { return model_->config().name(); }
  absl::Status setInput(const NamedInput& input) override;
  void infer(std::function<void(absl::Status)> done) override;
  absl::StatusOr<FloatOutput> output(std::string_view name) const override;
  void reset() override;

 private:
  explicit DirectEngine(std::unique_ptr<server::LocalModel> model) : model_(std::move(model)) {}
  absl::Status run();
  bool oneRequestPerEntry() const;
  // Runs `requests` (entries first_entry, first_entry + 1, ...) and files their outputs.
  absl::Status execute(const std::vector<server::LocalRequest>& requests, size_t first_entry,
                       bool per_entry);

  std::unique_ptr<server::LocalModel> model_;
  std::map<std::string, NamedInput, std::less<>> inputs_;
  size_t entries_ = 0;
  // Per output: per entry shape and values.
  struct Output {
    std::vector<Shape> shapes;
    std::vector<std::vector<float>> values;
  };
  std::map<std::string, Output, std::less<>> outputs_;
};

}  // namespace sonic::demo
