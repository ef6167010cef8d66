// One ModelStreamInfer stream of a load generator (perf_analyzer's --streaming): requests are
// written on the stream as they come, each tagged with a request id of its own, and completed
// when their final response arrives (the response parameter triton_final_response, or the only
// response of a model that is not decoupled), matched by that id (an error response without one
// completes the oldest request). Timing as InferenceConnection's: `send` serializes the request,
// `recv` parses the response that completes it.
//
// Thread-safe: Infer from any thread, callbacks included. Close (or the destructor) once, from a
// thread that is not a callback of this stream.
#pragma once

#include <memory>

#include "inference_connection.h"

namespace sonic::tools {

class InferenceStream {
 public:
  // Starts the stream on `connection` (its metadata, no deadline: a stream lasts the load
  // level). `connection` must outlive the stream.
  static std::unique_ptr<InferenceStream> Open(InferenceConnection& connection);

  // Closes.
  ~InferenceStream();
  InferenceStream(const InferenceStream&) = delete;
  InferenceStream& operator=(const InferenceStream&) = delete;

  // Writes `request` (after the writes before it); `done` runs once, on a gRPC thread, when its
  // final response arrives (an error_message response: that error, as UNKNOWN) or the stream
  // ends first (the stream's status, or UNAVAILABLE). After Close: at once, FAILED_PRECONDITION.
  void Infer(const inference::ModelInferRequest& request, InferenceConnection::InferDone done);

  // Whether Infer still writes requests (not closed, not ended by the server).
  bool open() const;

  // Half-closes the stream once the queued writes are sent and blocks until the server ends it.
  // Requests unanswered by then complete as said above.
  void Close();

 private:
  class Reactor;
  explicit InferenceStream(std::unique_ptr<Reactor> reactor);

  std::unique_ptr<Reactor> reactor_;
};

}  // namespace sonic::tools
