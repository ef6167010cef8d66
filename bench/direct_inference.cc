#include "direct_inference.h"

#include <algorithm>
#include <thread>

#include "server/local/local_model.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

// Executes until `until`, counting and timing the executions that start at or after `from`.
absl::Status ExecuteLoop(server::LocalModel& model, const DirectOptions& options, absl::Time from,
                         absl::Time until, std::vector<absl::Duration>& latencies) {
  server::LocalRequest request;
  for (const DirectInput& input : options.inputs) {
    request.push_back({input.name, input.type, input.shape, input.bytes});
  }
  const std::span<const server::LocalRequest> requests(&request, 1);
  for (absl::Time begin = absl::Now(); begin < until; begin = absl::Now()) {
    SONIC_RETURN_IF_ERROR(model.Execute(requests, options.outputs).status());
    const absl::Time end = absl::Now();
    if (begin >= from && end <= until) latencies.push_back(end - begin);
  }
  return absl::OkStatus();
}

// Inferences per execution: the batch dimension of a batching model's inputs, else 1.
int64_t BatchSize(const server::LocalModel& model, const DirectOptions& options) {
  if (model.config().max_batch_size() <= 0 || options.inputs.empty() ||
      options.inputs.front().shape.empty()) {
    return 1;
  }
  return options.inputs.front().shape.front();
}

}  // namespace

DirectModel::DirectModel(DirectOptions options, std::unique_ptr<server::LocalModel> model)
    : options_(std::move(options)), model_(std::move(model)) {
  batch_size_ = BatchSize(*model_, options_);
}

DirectModel::~DirectModel() = default;

absl::StatusOr<std::unique_ptr<DirectModel>> DirectModel::Load(const DirectOptions& options) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<server::LocalModel> model,
                         server::LocalModel::Load(options.model_dir, options.version));
  return std::unique_ptr<DirectModel>(new DirectModel(options, std::move(model)));
}

absl::Status DirectModel::ExecuteOnce() {
  server::LocalRequest request;
  for (const DirectInput& input : options_.inputs) {
    request.push_back({input.name, input.type, input.shape, input.bytes});
  }
  return model_->Execute(std::span<const server::LocalRequest>(&request, 1), options_.outputs)
      .status();
}

absl::StatusOr<DirectResult> RunDirectInference(const DirectOptions& options) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<server::LocalModel> model,
                         server::LocalModel::Load(options.model_dir, options.version));
  const absl::Time from = absl::Now() + options.warmup;
  const absl::Time until = from + options.duration;
  std::vector<absl::Duration> latencies;
  absl::Status status;
  std::thread worker([&] { status = ExecuteLoop(*model, options, from, until, latencies); });
  worker.join();
  SONIC_RETURN_IF_ERROR(status);
  std::sort(latencies.begin(), latencies.end());
  DirectResult result;
  result.executions = static_cast<int64_t>(latencies.size());
  result.inferences_per_second = static_cast<double>(result.executions) *
                                 static_cast<double>(BatchSize(*model, options)) /
                                 absl::ToDoubleSeconds(options.duration);
  if (!latencies.empty()) result.p50_latency = latencies[(latencies.size() - 1) / 2];
  return result;
}

}  // namespace sonic::bench
