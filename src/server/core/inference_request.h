// An inference request as the server core sees it, independent of the wire protocol: validated
// inputs (views over bytes owned by the frontend's message), the outputs to return, the model
// version it runs on, and the callback that completes it.
//
// Lifetime: the frontend keeps the bytes that inputs point into alive until `on_complete` has
// run. The request holds a reference to its ModelVersion, so an unload never pulls the model
// from under it. Not thread-safe; owned by one component at a time (frontend -> scheduler).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic::server {

class ModelVersion;
class Trace;
struct ExecutionTimes;

struct RequestInput {
  std::string name;
  DataType type = DataType::kInvalid;
  // As sent: starts with the batch dimension when the model has max_batch_size > 0.
  Shape shape;
  std::span<const std::byte> data;
};

struct RequestedOutput {
  std::string name;
  // Triton's classification extension: > 0 asks the frontend to return the top `classification`
  // classes instead of the tensor. The core ignores it.
  uint64_t classification = 0;
};

struct OutputTensor {
  std::string name;
  DataType type = DataType::kInvalid;
  Shape shape;
  std::string data;  // raw contents, in the wire layout
};

struct InferenceResponse {
  std::string model_name;
  int64_t model_version = 0;
  std::string id;
  std::vector<OutputTensor> outputs;  // in the order of InferenceRequest::outputs
};

// Called exactly once per request, from whichever thread finished it (a scheduler worker, or
// the caller's thread when the request is refused before queuing). Must not block for long.
using ResponseCallback = absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&>;

struct InferenceRequest {
  std::shared_ptr<ModelVersion> model;
  std::string id;
  // Leading dimension of every input; 1 for models with max_batch_size 0.
  int64_t batch_size = 1;
  // In model-config input order; an `optional` input the client did not send is absent.
  std::vector<RequestInput> inputs;
  std::vector<RequestedOutput> outputs;   // never empty: all model outputs when none were named
  uint64_t priority = 0;                  // 0 = the model's default level
  uint64_t timeout_us = 0;                // 0 = the model's default queue policy
  uint64_t arrival_ns = 0;                // steady clock, set when the request was received
  // Bytes that some inputs point into when they did not come as raw contents (typed `contents`
  // converted to the raw layout). Strings never move once added.
  std::vector<std::unique_ptr<std::string>> owned_data;
  // Other things that input views point into (registered shared-memory regions), kept alive
  // until the request is destroyed, so unregistering a region never unmaps it mid-request. The
  // core only holds them; it never looks inside.
  std::vector<std::shared_ptr<const void>> held_resources;
  ResponseCallback on_complete;
  // Whether the client no longer waits for the response (its call was cancelled or its deadline
  // passed); callable from any thread until on_complete runs. Such a request leaves the queue
  // without running. Null: the client never gives up.
  std::function<bool()> abandoned;
  // Set only for a request being traced (server/trace/trace.h): the core records its queue and
  // compute timestamps into it.
  std::shared_ptr<Trace> trace;
  // Where the executor writes the phase times this request was charged, before on_complete
  // runs, when it succeeds (an ensemble sums its steps' so). Null: not wanted.
  ExecutionTimes* charged_times = nullptr;
};

// Requests executed together in one model execution.
using Batch = std::vector<std::unique_ptr<InferenceRequest>>;

}  // namespace sonic::server
