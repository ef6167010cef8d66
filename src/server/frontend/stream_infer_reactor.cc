#include "server/frontend/stream_infer_reactor.h"

#include "server/frontend/infer_response_builder.h"
#include "server/frontend/inference_service.h"

namespace sonic::server {

StreamInferReactor::StreamInferReactor(ModelManager& manager, const SharedMemoryManager& regions)
    : manager_(manager),
      regions_(regions),
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
  {
    absl::MutexLock lock(&mutex_);
    ++running_;
  }
  // The request message must live until its inference completes: it owns the input bytes.
  std::shared_ptr<inference::ModelInferRequest> message = std::move(reading_);
  reading_ = std::make_unique<inference::ModelInferRequest>();
  StartRead(reading_.get());
  StartInference(manager_, regions_, *message,
                 [this, message](absl::StatusOr<InferenceResponse> result) {
                   auto response = std::make_unique<inference::ModelStreamInferResponse>();
                   if (result.ok()) {
                     BuildInferResponse(*std::move(result), *response->mutable_infer_response());
                   } else {
                     response->set_error_message(std::string(result.status().message()));
                     response->mutable_infer_response()->set_id(message->id());
                     response->mutable_infer_response()->set_model_name(message->model_name());
                   }
                   Respond(std::move(response));
                 });
}

void StreamInferReactor::Respond(std::unique_ptr<inference::ModelStreamInferResponse> response) {
  {
    absl::MutexLock lock(&mutex_);
    --running_;
    to_write_.push_back(std::move(response));
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
