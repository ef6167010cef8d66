// ModelStreamInfer: a bidirectional stream of inference requests and responses. Requests are
// read one after another and run concurrently; responses are written in request order (as
// Triton, for models that are not decoupled), each once those before it are out. An error in one
// request comes back as a response with `error_message` and the stream stays open. The stream
// finishes once the client has half-closed and every response is written.
//
// Memory is bounded per stream: once `max_responses` requests are read and their responses not
// yet written (running, waiting for an earlier one, or queued for a client that does not read),
// the stream stops reading until a write completes, so a client that never reads its responses
// is slowed by flow control instead of growing the server.
//
// Shutdown (StreamRegistry::CloseAll): a stream stops reading and finishes as soon as its
// running requests are answered; an idle one finishes at once. A cancelled stream's requests
// still in a queue are dropped there (InferenceRequest::abandoned).
//
// As Triton, every response carries the parameter `triton_final_response`: true, since each
// request (no model here is decoupled) has exactly one response, its final one. So a client that
// asked for `triton_enable_empty_final_response` gets no extra empty response: it is not needed.
//
// Owns itself: deletes itself when its stream is done with it and no request is running.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server/core/model_manager.h"
#include "server/frontend/async_rpc.h"
#include "server/shm/shared_memory_manager.h"
#include "server/trace/trace_manager.h"

namespace sonic::server {

// The response parameter that tells a stream's client no more responses follow for the request.
inline constexpr char kFinalResponse[] = "triton_final_response";

class StreamInferReactor;

// The open streams of one service, so that shutdown can close them. Thread-safe.
class StreamRegistry {
 public:
  // Closes every open stream, and from now on every stream added.
  void CloseAll();

 private:
  friend class StreamInferReactor;
  void Add(StreamInferReactor* stream);
  void Remove(StreamInferReactor* stream);

  absl::Mutex mutex_;
  std::set<StreamInferReactor*> streams_ ABSL_GUARDED_BY(mutex_);
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
};

class StreamInferReactor final : public StreamReactor {
 public:
  struct Options {
    TraceManager* traces = nullptr;      // borrowed; null: no request is traced
    StreamRegistry* registry = nullptr;  // borrowed; null: shutdown does not close the stream
    size_t max_responses = 64;           // at least 1
  };

  // Borrows all (`regions` borrows its manager); they must outlive the reactor.
  StreamInferReactor(ModelManager& manager, ClientRegions regions, const Options& options);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  friend class StreamRegistry;
  // Stops reading; finishes the stream once the requests read so far are answered.
  void Close();
  // Takes the response of the request read `sequence`-th.
  void Respond(uint64_t sequence, std::unique_ptr<inference::ModelStreamInferResponse> response);
  // Starts the next write or finishes the stream, as the state allows.
  void Advance() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Starts the next read when reading is paused and the stream owes fewer than max_responses.
  void ReadIfRoom() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  size_t Owed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Whether the caller, which has just changed the state under `mutex_`, is the one to delete the
  // reactor: it is done, nothing runs, and nobody claimed it before. Decided in the same critical
  // section as the change, so that no other thread can delete the reactor in between.
  bool ClaimDeletion() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Delete();

  ModelManager& manager_;
  const ClientRegions regions_;  // the stream's client's
  const Options options_;
  std::atomic<bool> cancelled_{false};
  // The message the next read fills; replaced before the read is started, under mutex_.
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
  int running_ ABSL_GUARDED_BY(mutex_) = 0;             // requests not yet completed
  bool read_paused_ ABSL_GUARDED_BY(mutex_) = false;    // no read outstanding, not done reading
  bool reads_done_ ABSL_GUARDED_BY(mutex_) = false;
  bool closing_ ABSL_GUARDED_BY(mutex_) = false;   // Close called
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;  // Finish called
  bool done_ ABSL_GUARDED_BY(mutex_) = false;      // OnDone called
  bool deleting_ ABSL_GUARDED_BY(mutex_) = false;  // exactly one caller deletes
};

}  // namespace sonic::server
