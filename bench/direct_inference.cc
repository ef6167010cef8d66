#include "direct_inference.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/backend/backend_model.h"
#include "server/backend/backend_registry.h"
#include "server/backend/collecting_output_allocator.h"
#include "server/repository/model_config_loader.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

struct FreeAligned {
  void operator()(std::byte* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::byte, FreeAligned>;

// The inputs copied into 64-byte-aligned memory (what the backend interface promises), and the
// C tensors pointing at them.
struct PreparedInputs {
  std::vector<AlignedBuffer> buffers;
  std::vector<SonicBackendTensor> tensors;
};

PreparedInputs PrepareInputs(const std::vector<DirectInput>& inputs) {
  PreparedInputs prepared;
  for (const DirectInput& input : inputs) {
    const size_t size = std::max<size_t>(64, (input.bytes.size() + 63) / 64 * 64);
    AlignedBuffer buffer(static_cast<std::byte*>(std::aligned_alloc(64, size)));
    if (!input.bytes.empty()) std::memcpy(buffer.get(), input.bytes.data(), input.bytes.size());
    prepared.tensors.push_back(SonicBackendTensor{
        input.name.c_str(), static_cast<int32_t>(input.type), input.shape.data(),
        static_cast<uint32_t>(input.shape.size()), buffer.get(), input.bytes.size()});
    prepared.buffers.push_back(std::move(buffer));
  }
  return prepared;
}

// Executes until `until`, counting and timing the executions that start at or after `from`.
absl::Status ExecuteLoop(server::BackendInstance& instance, const DirectOptions& options,
                         absl::Time from, absl::Time until,
                         std::vector<absl::Duration>& latencies) {
  PreparedInputs inputs = PrepareInputs(options.inputs);
  std::vector<const char*> output_names;
  for (const std::string& name : options.outputs) output_names.push_back(name.c_str());
  server::CollectingOutputAllocator allocator;
  for (absl::Time begin = absl::Now(); begin < until; begin = absl::Now()) {
    allocator.Clear();
    SONIC_RETURN_IF_ERROR(
        instance.Execute(inputs.tensors, output_names, options.batch_size, allocator));
    const absl::Time end = absl::Now();
    if (begin >= from && end <= until) latencies.push_back(end - begin);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DirectResult> RunDirectInference(const DirectOptions& options) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, server::LoadModelConfig(options.model_dir));
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<server::BackendRegistry> registry,
                         server::BackendRegistry::Create({}));
  SONIC_ASSIGN_OR_RETURN(const SonicBackendApi* api, registry->Get(config.backend()));
  SONIC_ASSIGN_OR_RETURN(
      std::unique_ptr<server::BackendModel> model,
      server::BackendModel::Create(api, config.name(), options.version,
                                   options.model_dir / std::to_string(options.version), config));
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<server::BackendInstance> instance,
                         server::BackendInstance::Create(*model, config.name() + "_direct",
                                                         SONIC_BACKEND_INSTANCE_CPU, -1));
  const absl::Time from = absl::Now() + options.warmup;
  const absl::Time until = from + options.duration;
  std::vector<absl::Duration> latencies;
  absl::Status status;
  std::thread worker([&] { status = ExecuteLoop(*instance, options, from, until, latencies); });
  worker.join();
  SONIC_RETURN_IF_ERROR(status);
  std::sort(latencies.begin(), latencies.end());
  DirectResult result;
  result.executions = static_cast<int64_t>(latencies.size());
  result.inferences_per_second = static_cast<double>(result.executions) *
                                 static_cast<double>(options.batch_size) /
                                 absl::ToDoubleSeconds(options.duration);
  if (!latencies.empty()) result.p50_latency = latencies[(latencies.size() - 1) / 2];
  return result;
}

}  // namespace sonic::bench
