#include "inference_stream.h"

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpc_call.h"

namespace sonic::tools {
namespace {

const char kModelStreamInferMethod[] = "/inference.GRPCInferenceService/ModelStreamInfer";

// `request` serialized with its id (field 3) replaced by `id`: protobuf keeps the last value of
// a repeated singular field, so appending the field overrides any id without copying the
// request's tensors first.
grpc::ByteBuffer SerializeWithId(const inference::ModelInferRequest& request,
                                 const std::string& id) {
  auto* bytes = new std::string;
  request.SerializeToString(bytes);
  bytes->push_back(static_cast<char>((3 << 3) | 2));  // field 3, length-delimited
  for (uint64_t length = id.size();; length >>= 7) {
    if (length < 0x80) {
      bytes->push_back(static_cast<char>(length));
      break;
    }
    bytes->push_back(static_cast<char>((length & 0x7f) | 0x80));
  }
  bytes->append(id);
  grpc::Slice slice(
      bytes->data(), bytes->size(), [](void* owner) { delete static_cast<std::string*>(owner); },
      bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Whether `response` ends its request: triton_final_response when the server sends it.
bool IsFinal(const inference::ModelInferResponse& response) {
  auto it = response.parameters().find("triton_final_response");
  return it == response.parameters().end() || it->second.bool_param();
}

}  // namespace

class InferenceStream::Reactor
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit Reactor(InferenceConnection& connection) {
    for (const auto& [key, value] : connection.options().metadata) {
      context_.AddMetadata(key, value);
    }
    connection.generic_stub().PrepareBidiStreamingCall(&context_, kModelStreamInferMethod,
                                                       grpc::StubOptions(), this);
    StartRead(&read_buffer_);
    StartCall();
  }

  void Infer(const inference::ModelInferRequest& request, InferenceConnection::InferDone done) {
    RequestRecord record;
    record.start = absl::Now();
    std::string id;
    {
      absl::MutexLock lock(&mu_);
      if (!closing_ && !finished_) id = absl::StrCat(next_id_++);
    }
    if (id.empty()) {
      record.end = absl::Now();
      done(record, absl::FailedPreconditionError("the stream is closed"));
      return;
    }
    grpc::ByteBuffer buffer = SerializeWithId(request, id);
    record.send = absl::Now() - record.start;
    grpc::ByteBuffer* write = nullptr;
    {
      absl::MutexLock lock(&mu_);
      pending_.emplace(id, Pending{record, std::move(done)});
      order_.push_back(id);
      writes_.push_back(std::move(buffer));  // a deque keeps references to the others valid
      if (!write_in_progress_) {
        write_in_progress_ = true;
        write = &writes_.front();
      }
    }
    if (write != nullptr) StartWrite(write);
  }

  bool open() const {
    absl::MutexLock lock(&mu_);
    return !closing_ && !finished_;
  }

  void Close() {
    bool writes_done = false;
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      writes_done = !write_in_progress_ && !writes_done_started_ && !finished_;
      writes_done_started_ = writes_done_started_ || writes_done;
    }
    if (writes_done) StartWritesDone();
    ended_.WaitForNotification();
  }

  void OnWriteDone(bool ok) override {
    grpc::ByteBuffer* next = nullptr;
    bool writes_done = false;
    {
      absl::MutexLock lock(&mu_);
      writes_.pop_front();
      if (!ok) writes_.clear();  // the stream is broken: OnDone fails what is pending
      if (!writes_.empty()) {
        next = &writes_.front();
      } else {
        write_in_progress_ = false;
        writes_done = ok && closing_ && !writes_done_started_;
        writes_done_started_ = writes_done_started_ || writes_done;
      }
    }
    if (next != nullptr) StartWrite(next);
    if (writes_done) StartWritesDone();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the server ended the stream: OnDone follows
    const absl::Time recv_start = absl::Now();
    inference::ModelStreamInferResponse response;
    grpc::Status parsed =
        grpc::SerializationTraits<inference::ModelStreamInferResponse>::Deserialize(&read_buffer_,
                                                                                    &response);
    absl::Status status = transport::FromGrpc(parsed, "ModelStreamInfer response");
    if (status.ok() && !response.error_message().empty()) {
      status = absl::UnknownError(absl::StrCat("ModelStreamInfer: ", response.error_message()));
    }
    const bool final = !status.ok() || IsFinal(response.infer_response());
    if (final) Complete(response.infer_response().id(), recv_start, status);
    StartRead(&read_buffer_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::Status error = transport::FromGrpc(status, "ModelStreamInfer");
    if (error.ok()) error = absl::UnavailableError("ModelStreamInfer: the stream ended");
    std::map<std::string, Pending> unanswered;
    {
      absl::MutexLock lock(&mu_);
      unanswered.swap(pending_);
      order_.clear();
    }
    for (auto& [id, pending] : unanswered) {
      pending.record.end = absl::Now();
      pending.done(pending.record, error);
    }
    {
      absl::MutexLock lock(&mu_);
      finished_ = true;
    }
    ended_.Notify();  // last: Close may then destroy this reactor
  }

 private:
  struct Pending {
    RequestRecord record;
    InferenceConnection::InferDone done;
  };

  void Complete(const std::string& id, absl::Time recv_start, const absl::Status& status) {
    Pending pending;
    {
      absl::MutexLock lock(&mu_);
      auto it = pending_.find(id);
      if (it == pending_.end() && !order_.empty()) it = pending_.find(order_.front());
      if (it == pending_.end()) return;
      std::erase(order_, it->first);
      pending = std::move(it->second);
      pending_.erase(it);
    }
    pending.record.end = absl::Now();
    pending.record.recv = pending.record.end - recv_start;
    pending.record.ok = status.ok();
    pending.done(pending.record, status);
  }

  grpc::ClientContext context_;
  grpc::ByteBuffer read_buffer_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);        // pending ids, oldest first
  std::deque<grpc::ByteBuffer> writes_ ABSL_GUARDED_BY(mu_);  // the front one is being written
  bool write_in_progress_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_started_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification ended_;  // OnDone has run
};

std::unique_ptr<InferenceStream> InferenceStream::Open(InferenceConnection& connection) {
  return std::unique_ptr<InferenceStream>(
      new InferenceStream(std::make_unique<Reactor>(connection)));
}

InferenceStream::InferenceStream(std::unique_ptr<Reactor> reactor) : reactor_(std::move(reactor)) {}

InferenceStream::~InferenceStream() { Close(); }

void InferenceStream::Infer(const inference::ModelInferRequest& request,
                            InferenceConnection::InferDone done) {
  reactor_->Infer(request, std::move(done));
}

bool InferenceStream::open() const { return reactor_->open(); }

void InferenceStream::Close() { reactor_->Close(); }

}  // namespace sonic::tools
