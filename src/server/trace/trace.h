// One traced inference request: Triton's trace of timestamps, written as Triton's JSON trace
// objects when the last holder lets go of it.
//
// Tracing costs nothing for requests that are not traced: the request path holds a null
// std::shared_ptr<Trace> and checks it once per timestamp. A traced request's frontend, core
// request and completion each hold a reference; the last one to be dropped hands the serialized
// trace to its TraceSink (the trace setting that sampled it, trace_manager.h).
//
// Thread-safe: timestamps may be recorded from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

// Timestamp names, as Triton's TRITONSERVER_InferenceTraceActivity strings and frontends.
inline constexpr std::string_view kTraceRequestStart = "REQUEST_START";
inline constexpr std::string_view kTraceQueueStart = "QUEUE_START";
inline constexpr std::string_view kTraceComputeStart = "COMPUTE_START";
inline constexpr std::string_view kTraceComputeInputEnd = "COMPUTE_INPUT_END";
inline constexpr std::string_view kTraceComputeOutputStart = "COMPUTE_OUTPUT_START";
inline constexpr std::string_view kTraceComputeEnd = "COMPUTE_END";
inline constexpr std::string_view kTraceRequestEnd = "REQUEST_END";
inline constexpr std::string_view kTraceGrpcWaitReadStart = "GRPC_WAITREAD_START";
inline constexpr std::string_view kTraceGrpcWaitReadEnd = "GRPC_WAITREAD_END";
inline constexpr std::string_view kTraceGrpcSendStart = "GRPC_SEND_START";
inline constexpr std::string_view kTraceGrpcSendEnd = "GRPC_SEND_END";
inline constexpr std::string_view kTraceHttpRecvStart = "HTTP_RECV_START";
inline constexpr std::string_view kTraceHttpRecvEnd = "HTTP_RECV_END";
inline constexpr std::string_view kTraceHttpSendStart = "HTTP_SEND_START";
inline constexpr std::string_view kTraceHttpSendEnd = "HTTP_SEND_END";

// Where finished traces go. Thread-safe; Collect may block on file I/O.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // `json_objects`: one trace's JSON objects, comma-separated, without the enclosing brackets.
  virtual void Collect(std::string json_objects) = 0;
};

class Trace {
 public:
  // `id` is unique in the server (Triton numbers traces from 1). The sink is shared: it lives
  // until every trace it sampled has been written.
  Trace(uint64_t id, std::string model_name, std::shared_ptr<TraceSink> sink)
      : id_(id), model_name_(std::move(model_name)), sink_(std::move(sink)) {}
  // Serializes the trace and hands it to the sink.
  ~Trace();

  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  uint64_t id() const { return id_; }
  const std::string& model_name() const { return model_name_; }

  // The model version and request id that the trace's header object reports; set once the
  // request is resolved to a version, before REQUEST_START is recorded.
  void SetRequest(int64_t model_version, std::string request_id);
  // Steady-clock nanoseconds, as the statistics and Triton use. `name` must outlive the trace
  // (one of the kTrace names above).
  void Record(std::string_view name, uint64_t ns);

  // The trace's JSON objects in Triton's layout: for each timestamp in recording order
  // {"id":N,"timestamps":[{"name":...,"ns":...}]}, preceded at REQUEST_START by
  // {"id":N,"model_name":...,"model_version":V[,"request_id":...]}.
  std::string ToJson() const;

 private:
  const uint64_t id_;
  const std::string model_name_;
  const std::shared_ptr<TraceSink> sink_;
  mutable absl::Mutex mutex_;
  int64_t model_version_ ABSL_GUARDED_BY(mutex_) = -1;
  std::string request_id_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::pair<std::string_view, uint64_t>> timestamps_ ABSL_GUARDED_BY(mutex_);
};

// `text` as a JSON string literal, quotes included.
std::string JsonString(std::string_view text);

}  // namespace sonic::server
