#include "demo_workload.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "demonstrator/events/ttbar_generator.h"
#include "demonstrator/ml/features.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

// Appends entry `entry` of every input of `from` to the input of the same name in `to`.
void AppendEntry(const std::vector<demo::NamedInput>& from, size_t entry, ObjectBatch& to) {
  for (const demo::NamedInput& input : from) {
    auto it = std::find_if(to.inputs.begin(), to.inputs.end(),
                           [&](const demo::NamedInput& in) { return in.name == input.name; });
    if (it == to.inputs.end()) {
      it = to.inputs.insert(to.inputs.end(),
                            {input.name, {}, std::make_shared<client::TritonInput<float>>()});
    }
    it->shapes.push_back(input.shapes[entry]);
    it->data->push_back((*input.data)[entry]);
  }
}

}  // namespace

std::vector<ObjectBatch> ParticleNetBatches(uint64_t seed, size_t jets_per_batch, size_t batches,
                                            bool padded) {
  const demo::TtbarGenerator generator(seed);
  std::vector<ObjectBatch> result(batches);
  size_t batch = 0;
  for (uint64_t id = 0; batch < batches && jets_per_batch > 0; ++id) {
    const demo::EventData event = generator.Generate(id);
    const std::vector<demo::NamedInput> jets =
        demo::ParticleNetInputs(event, event.ak4_jets, padded);
    for (size_t jet = 0; jet < event.ak4_jets.size() && batch < batches; ++jet) {
      AppendEntry(jets, jet, result[batch]);
      if (++result[batch].entries == jets_per_batch) ++batch;
    }
  }
  return result;
}

std::vector<ObjectBatch> DeepMetBatches(uint64_t seed, size_t events_per_batch, size_t batches) {
  const demo::TtbarGenerator generator(seed);
  std::vector<ObjectBatch> result(batches);
  uint64_t id = 0;
  for (ObjectBatch& batch : result) {
    for (; batch.entries < events_per_batch; ++batch.entries) {
      AppendEntry(demo::DeepMetInputs(generator.Generate(id++)), 0, batch);
    }
  }
  return result;
}

uint64_t InputBytes(const ObjectBatch& batch) {
  uint64_t bytes = 0;
  for (const demo::NamedInput& input : batch.inputs) {
    for (const std::vector<float>& values : *input.data) bytes += values.size() * sizeof(float);
  }
  return bytes;
}

absl::Status RunBatch(demo::InferenceEngine& engine, const ObjectBatch& batch,
                      std::string_view output) {
  engine.reset();
  for (const demo::NamedInput& input : batch.inputs) SONIC_RETURN_IF_ERROR(engine.setInput(input));
  absl::Status status;
  absl::Notification done;
  engine.infer([&](absl::Status result) {
    status = std::move(result);
    done.Notify();
  });
  done.WaitForNotification();
  SONIC_RETURN_IF_ERROR(status);
  SONIC_ASSIGN_OR_RETURN(demo::FloatOutput result, engine.output(output));
  if (result.values.size() != batch.entries) {
    return absl::InternalError(absl::StrCat(engine.modelName(), " returned ",
                                            result.values.size(), " entries of '",
                                            std::string(output), "' for ", batch.entries));
  }
  return absl::OkStatus();
}

RoundTrip CyclingClient(std::shared_ptr<demo::InferenceEngine> engine,
                        const std::vector<ObjectBatch>& batches, size_t first,
                        std::string_view output) {
  return [engine = std::move(engine), &batches, next = first,
          output = std::string(output)]() mutable {
    return RunBatch(*engine, batches[next++ % batches.size()], output);
  };
}

}  // namespace sonic::bench
