#include "server/frontend/stream_infer_reactor.h"

#include "server/frontend/infer_response_builder.h"
#include "server/core/clock.h"
#include "server/frontend/inference_service.h"

namespace sonic::server {

StreamInferReactor::StreamInferReactor(ModelManager& manager, const SharedMemoryManager& regions,
                                       TraceManager* traces)
    : manager_(manager),
      regions_(regions),
      traces_(traces),
      reading_(std::make_unique<inference::ModelInferRequest>()) {
  StartRead(reading_.get());
}

void StreamInferReactor::OnReadDone(bool ok) {
  if (!ok) {
    absl::MutexLock lock(&mutex_);
    reads_done_ = true;
    Advance();
    return;
  }
  uint64_t sequence;
  {
    absl::MutexLock lock(&mutex_);
    ++running_;
    sequence = next_sequence_++;
  }
  // The request message must live until its inference completes: it owns the input bytes.
  std::shared_ptr<inference::ModelInferRequest> message = std::move(reading_);
  reading_ = std::make_unique<inference::ModelInferRequest>();
  StartRead(reading_.get());
  std::shared_ptr<Trace> trace = traces_ ? traces_->Sample(message->model_name()) : nullptr;
  if (trace) {
    const uint64_t received_ns = SystemClock::Get().NowNs();
    trace->Record(kTraceGrpcWaitReadStart, received_ns);
    trace->Record(kTraceGrpcWaitReadEnd, received_ns);
  }
  StartInference(manager_, regions_, *message,
                 [this, message, trace, sequence](absl::StatusOr<InferenceResponse> result) {
                   if (trace) trace->Record(kTraceGrpcSendStart, SystemClock::Get().NowNs());
                   auto response = std::make_unique<inference::ModelStreamInferResponse>();
                   inference::ModelInferResponse& infer = *response->mutable_infer_response();
                   if (result.ok()) {
                     BuildInferResponse(*std::move(result), infer);
                   } else {
                     response->set_error_message(std::string(result.status().message()));
                     infer.set_id(message->id());
                     infer.set_model_name(message->model_name());
                   }
                   (*infer.mutable_parameters())[kFinalResponse].set_bool_param(true);
                   Respond(sequence, std::move(response));
                   // Queued: the stream writes it once the responses before it are out. (The
                   // lambda, and so `trace`, outlives `this` being deleted by Respond.)
                   if (trace) trace->Record(kTraceGrpcSendEnd, SystemClock::Get().NowNs());
                 },
                 trace);
}

void StreamInferReactor::Respond(uint64_t sequence,
                                 std::unique_ptr<inference::ModelStreamInferResponse> response) {
  {
    absl::MutexLock lock(&mutex_);
    --running_;
    completed_[sequence] = std::move(response);
    // Written in request order, as Triton does for models that are not decoupled.
    for (auto next = completed_.begin();
         next != completed_.end() && next->first == next_to_write_;
         next = completed_.erase(next), ++next_to_write_) {
      to_write_.push_back(std::move(next->second));
    }
    Advance();
  }
  MaybeDelete();
}

void StreamInferReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mutex_);
  writing_.reset();
  if (!ok) to_write_.clear();  // the client is gone; drop what it can no longer receive
  Advance();
}

void StreamInferReactor::Advance() {
  if (writing_ || finished_) return;
  if (!to_write_.empty() && !done_) {
    writing_ = std::move(to_write_.front());
    to_write_.pop_front();
    StartWrite(writing_.get());
    return;
  }
  if (reads_done_ && running_ == 0) {
    finished_ = true;
    Finish(grpc::Status::OK);
  }
}

void StreamInferReactor::OnDone() {
  {
    absl::MutexLock lock(&mutex_);
    done_ = true;
    to_write_.clear();
    completed_.clear();
  }
  MaybeDelete();
}

void StreamInferReactor::MaybeDelete() {
  bool last;
  {
    absl::MutexLock lock(&mutex_);
    last = done_ && running_ == 0 && !deleting_;
    if (last) deleting_ = true;
  }
  if (last) delete this;
}

}  // namespace sonic::server
