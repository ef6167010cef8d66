// ModelStreamInfer: a bidirectional stream of inference requests and responses. Requests are
// read one after another and run concurrently; responses are written in request order (as
// Triton, for models that are not decoupled), each once those before it are out. An error in one request comes back
// as a response with `error_message` and the stream stays open. The stream finishes once the
// client has half-closed and every response is written.
//
// As Triton, every response carries the parameter `triton_final_response`: true, since each
// request (no model here is decoupled) has exactly one response, its final one. So a client that
// asked for `triton_enable_empty_final_response` gets no extra empty response: it is not needed.
//
// Owns itself: deletes itself when gRPC is done with it and no request is running.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server/core/model_manager.h"
#include "server/shm/shared_memory_manager.h"
#include "server/trace/trace_manager.h"

namespace sonic::server {

// The response parameter that tells a stream's client no more responses follow for the request.
inline constexpr char kFinalResponse[] = "triton_final_response";

class StreamInferReactor final
    : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                     inference::ModelStreamInferResponse> {
 public:
  // Borrows all; they must outlive the reactor. Requests are traced as `traces` samples them
  // (none when null).
  StreamInferReactor(ModelManager& manager, const SharedMemoryManager& regions,
                     TraceManager* traces = nullptr);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Takes the response of the request read `sequence`-th.
  void Respond(uint64_t sequence, std::unique_ptr<inference::ModelStreamInferResponse> response);
  // Starts the next write or finishes the stream, as the state allows. Caller holds the lock.
  void Advance() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void MaybeDelete();

  ModelManager& manager_;
  const SharedMemoryManager& regions_;
  TraceManager* const traces_;
  std::unique_ptr<inference::ModelInferRequest> reading_;
  absl::Mutex mutex_;
  std::deque<std::unique_ptr<inference::ModelStreamInferResponse>> to_write_
      ABSL_GUARDED_BY(mutex_);
  std::unique_ptr<inference::ModelStreamInferResponse> writing_ ABSL_GUARDED_BY(mutex_);
  // Responses that wait for an earlier request's, by request sequence number.
  std::map<uint64_t, std::unique_ptr<inference::ModelStreamInferResponse>> completed_
      ABSL_GUARDED_BY(mutex_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mutex_) = 0;  // of the next request read
  uint64_t next_to_write_ ABSL_GUARDED_BY(mutex_) = 0;  // of the next response to queue
  int running_ ABSL_GUARDED_BY(mutex_) = 0;       // requests not yet completed
  bool reads_done_ ABSL_GUARDED_BY(mutex_) = false;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;  // Finish called
  bool done_ ABSL_GUARDED_BY(mutex_) = false;      // OnDone called
  bool deleting_ ABSL_GUARDED_BY(mutex_) = false;  // exactly one caller deletes
};

}  // namespace sonic::server
