// The model end of a demonstrator ML module, the same for both ways of running the model:
// through SONIC (SonicEngine: a TritonClient to an inference server) or directly in the job's
// process (DirectEngine: a LocalModel through the server's own execution path). Modules fill
// inputs and read outputs without knowing which; that is what makes the two runs comparable
// object by object.
//
// Per event: setInput for every input (entries = the objects of the event: jets, taus, or the
// event itself), infer, then in produce read output(), then reset(). Every input and output is
// FP32. Shapes are per entry and exclude the batch dimension.
//
// Thread-compatible: one event at a time (a framework stream owns its engines). `done` may run
// on any thread, possibly before infer returns.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/client/triton_data.h"
#include "sonic/common/shape.h"

namespace sonic::demo {

// One vector of values per entry, shared with the engine until reset().
using FloatBatch = client::TritonInputContainer<float>;

// An input of one event: per-entry shapes and values.
struct NamedInput {
  std::string name;
  std::vector<Shape> shapes;
  FloatBatch data;
};

// An output of one event: per-entry shapes and values (valid until reset()).
struct FloatOutput {
  std::vector<Shape> shapes;
  std::vector<std::span<const float>> values;
};

class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;

  virtual const std::string& modelName() const = 0;

  // INVALID_ARGUMENT (from the client's checks, or the engine's) for an unknown input, entries
  // differing from another input's, shapes not matching the model or values not matching shapes.
  virtual absl::Status setInput(const NamedInput& input) = 0;

  // Runs the model on the inputs set since reset(); `done` gets OK or the error, exactly once.
  virtual void infer(std::function<void(absl::Status)> done) = 0;

  // After a successful infer: the output's entries. INVALID_ARGUMENT for an unknown output.
  virtual absl::StatusOr<FloatOutput> output(std::string_view name) const = 0;

  // Forgets the event's inputs and outputs.
  virtual void reset() = 0;
};

}  // namespace sonic::demo
