// The demonstrator's models on realistic inputs, for the benchmarks that compare ways of running
// them (service_vs_direct, ragged_vs_padded): batches of inputs from ttbar-like events, filled
// exactly as the demonstrator's modules fill them (demonstrator/ml/features.h), and one dispatch
// of a batch through either of the demonstrator's engines (SonicEngine through a sonic-server,
// DirectEngine in-process), so that both sides of a comparison do the same client-side work.
// Stateless functions; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "demonstrator/ml/inference_engine.h"
#include "interleaved_load.h"

namespace sonic::bench {

// One dispatch's inputs: every input with one entry per object (a jet, or an event).
struct ObjectBatch {
  std::vector<demo::NamedInput> inputs;
  size_t entries = 0;
};

// ParticleNet inputs (padded or ragged, features.h) of the AK4 jets of events 0, 1, 2... of
// TtbarGenerator(seed), in event and jet order: `batches` batches of `jets_per_batch` (> 0) jets
// each.
// The same arguments give the same jets whether padded or not.
std::vector<ObjectBatch> ParticleNetBatches(uint64_t seed, size_t jets_per_batch, size_t batches,
                                            bool padded);

// DeepMET inputs of events 0, 1, 2... of TtbarGenerator(seed): `batches` batches of
// `events_per_batch` (> 0) events, one entry (all the event's PF candidates) per event.
std::vector<ObjectBatch> DeepMetBatches(uint64_t seed, size_t events_per_batch, size_t batches);

// Bytes of a batch's input values: the tensor contents its requests carry, whatever their number.
uint64_t InputBytes(const ObjectBatch& batch);

// One dispatch: resets `engine` (forgetting the previous batch), sets the batch's inputs, infers
// and checks that `output` has one entry per object. Blocks until the result is in, in any SONIC mode. Errors: the engine's, unchanged; INTERNAL for an output with the wrong number of
// entries.
absl::Status RunBatch(demo::InferenceEngine& engine, const ObjectBatch& batch,
                      std::string_view output);

// A closed-loop client of an interleaved load: RunBatch of `batches` (borrowed; non-empty) one
// after another, from batch `first` on, round and round, so that the model sees objects of every
// size as from a stream of events rather than one batch's shapes again and again.
RoundTrip CyclingClient(std::shared_ptr<demo::InferenceEngine> engine,
                        const std::vector<ObjectBatch>& batches, size_t first,
                        std::string_view output);

}  // namespace sonic::bench
