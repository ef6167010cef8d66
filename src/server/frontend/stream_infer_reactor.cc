#include "server/frontend/stream_infer_reactor.h"

#include "server/core/clock.h"
#include "server/frontend/infer_response_builder.h"
#include "server/frontend/inference_service.h"

namespace sonic::server {

void StreamRegistry::CloseAll() {
  absl::MutexLock lock(&mutex_);
  closed_ = true;
  for (StreamInferReactor* stream : streams_) stream->Close();
}

void StreamRegistry::Add(StreamInferReactor* stream) {
  absl::MutexLock lock(&mutex_);
  streams_.insert(stream);
  if (closed_) stream->Close();
}

void StreamRegistry::Remove(StreamInferReactor* stream) {
  absl::MutexLock lock(&mutex_);
  streams_.erase(stream);
}

StreamInferReactor::StreamInferReactor(ModelManager& manager, ClientRegions regions,
                                       const Options& options)
    : manager_(manager),
      regions_(std::move(regions)),
      options_(options),
      reading_(std::make_unique<inference::ModelInferRequest>()) {
  StartRead(reading_.get());
  if (options_.registry) options_.registry->Add(this);
}

size_t StreamInferReactor::Owed() const {
  return static_cast<size_t>(running_) + completed_.size() + to_write_.size() + (writing_ ? 1 : 0);
}

void StreamInferReactor::ReadIfRoom() {
  if (!read_paused_ || closing_ || finished_ || Owed() >= options_.max_responses) return;
  read_paused_ = false;
  StartRead(reading_.get());
}

void StreamInferReactor::OnReadDone(bool ok) {
  std::shared_ptr<inference::ModelInferRequest> message;
  uint64_t sequence;
  {
    absl::MutexLock lock(&mutex_);
    if (!ok) {
      reads_done_ = true;
      Advance();
      return;
    }
    ++running_;
    sequence = next_sequence_++;
    // The request message must live until its inference completes: it owns the input bytes.
    message = std::move(reading_);
    reading_ = std::make_unique<inference::ModelInferRequest>();
    read_paused_ = true;
    ReadIfRoom();
  }
  std::shared_ptr<Trace> trace =
      options_.traces ? options_.traces->Sample(message->model_name()) : nullptr;
  if (trace) {
    const uint64_t received_ns = SystemClock::Get().NowNs();
    trace->Record(kTraceGrpcWaitReadStart, received_ns);
    trace->Record(kTraceGrpcWaitReadEnd, received_ns);
  }
  StartInference(
      manager_, regions_, *message,
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
        // Queued: the stream writes it once the responses before it are out. (The lambda, and
        // so `trace`, outlives `this` being deleted by Respond.)
        if (trace) trace->Record(kTraceGrpcSendEnd, SystemClock::Get().NowNs());
      },
      trace,
      // Running requests keep the reactor alive, so `this` outlives every call of this.
      [this] { return cancelled_.load(std::memory_order_relaxed); });
}

void StreamInferReactor::Respond(uint64_t sequence,
                                 std::unique_ptr<inference::ModelStreamInferResponse> response) {
  bool last;
  {
    absl::MutexLock lock(&mutex_);
    --running_;
    completed_[sequence] = std::move(response);
    // Written in request order, as Triton does for models that are not decoupled.
    for (auto next = completed_.begin(); next != completed_.end() && next->first == next_to_write_;
         next = completed_.erase(next), ++next_to_write_) {
      to_write_.push_back(std::move(next->second));
    }
    Advance();
    last = ClaimDeletion();
  }
  if (last) Delete();
}

void StreamInferReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mutex_);
  writing_.reset();
  if (!ok) to_write_.clear();  // the client is gone; drop what it can no longer receive
  Advance();
  ReadIfRoom();
}

void StreamInferReactor::Close() {
  absl::MutexLock lock(&mutex_);
  closing_ = true;
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
  if ((reads_done_ || closing_) && running_ == 0) {
    finished_ = true;
    Finish(grpc::Status::OK);
  }
}

void StreamInferReactor::OnCancel() { cancelled_.store(true, std::memory_order_relaxed); }

void StreamInferReactor::OnDone() {
  bool last;
  {
    absl::MutexLock lock(&mutex_);
    done_ = true;
    to_write_.clear();
    completed_.clear();
    last = ClaimDeletion();
  }
  if (last) Delete();
}

bool StreamInferReactor::ClaimDeletion() {
  if (!done_ || running_ != 0 || deleting_) return false;
  deleting_ = true;
  return true;
}

void StreamInferReactor::Delete() {
  if (options_.registry) options_.registry->Remove(this);
  delete this;
}

}  // namespace sonic::server
