#include "server/frontend/async_rpc.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/tsan_handoff.h"

namespace sonic::server {
namespace {

// Calls each queue keeps requested per kind (raw ModelInfer, generic): a call that arrives while
// none is requested waits in gRPC until one is.
constexpr int kAwaitedCalls = 4;

// What the completion queues return: every tag is one of these.
class CompletionTag {
 public:
  virtual void Complete(bool ok) = 0;

 protected:
  ~CompletionTag() = default;
};

// `Method` of `owner` as a tag.
template <typename Owner, void (Owner::*Method)(bool)>
class MemberTag final : public CompletionTag {
 public:
  explicit MemberTag(Owner* owner) : owner_(owner) {}
  void Complete(bool ok) override {
    TakeOver(owner_);  // gRPC, uninstrumented, orders the operation before its event
    (owner_->*Method)(ok);
  }

 private:
  Owner* const owner_;
};

// One ModelInfer call: requested, then answered once. Deletes itself once gRPC has returned both
// its finish and its done event (the done event comes early when the client cancels, so the
// handler's Finish may still follow it).
class RawUnaryCall final : public RpcContext, public UnaryReactor {
 public:
  static void Await(RawUnaryService& service, grpc::ServerCompletionQueue* queue) {
    auto* call = new RawUnaryCall(service, queue);
    call->server_context_.AsyncNotifyWhenDone(&call->done_tag_);
    HandOff(call);
    service.Request(&call->server_context_, &call->request_, &call->writer_, queue,
                    &call->arrived_tag_);
  }

  UnaryReactor* DefaultReactor() override { return this; }

  void Finish(const grpc::Status& status) override {
    HandOff(this);
    if (status.ok()) {
      writer_.Finish(response_, status, &finished_tag_);
    } else {
      writer_.FinishWithError(status, &finished_tag_);
    }
  }

 private:
  RawUnaryCall(RawUnaryService& service, grpc::ServerCompletionQueue* queue)
      : RpcContext(server_context_), service_(service), queue_(queue) {}

  void Arrived(bool ok) {
    if (!ok) {  // the server shuts down: the call never started, no other event comes
      delete this;
      return;
    }
    Await(service_, queue_);
    service_.handler()(this, &request_, &response_);
  }
  void Finished(bool) { Release(); }
  void Done(bool) {
    cancelled_.store(server_context_.IsCancelled(), std::memory_order_release);
    Release();
  }
  void Release() {
    if (events_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  RawUnaryService& service_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext server_context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> writer_{&server_context_};
  std::atomic<int> events_left_{2};  // finished, done
  MemberTag<RawUnaryCall, &RawUnaryCall::Arrived> arrived_tag_{this};
  MemberTag<RawUnaryCall, &RawUnaryCall::Finished> finished_tag_{this};
  MemberTag<RawUnaryCall, &RawUnaryCall::Done> done_tag_{this};
};

// A call of any other method, through the generic service: a unary method of RpcMethods (one
// read, then the handler), a stream (its reactor's operations), or an unknown method
// (UNIMPLEMENTED). Deletes itself once every operation it started, its finish and its done event
// have come back; a stream's reactor gets OnDone just before.
class GenericCall final : public RpcContext, public UnaryReactor, public StreamTransport {
 public:
  static void Await(grpc::AsyncGenericService& service, const RpcMethods& methods,
                    grpc::ServerCompletionQueue* queue) {
    auto* call = new GenericCall(service, methods, queue);
    call->server_context_.AsyncNotifyWhenDone(&call->done_tag_);
    HandOff(call);
    service.RequestCall(&call->server_context_, &call->stream_, queue, queue, &call->arrived_tag_);
  }

  UnaryReactor* DefaultReactor() override { return reactor_ == nullptr ? this : nullptr; }

  // UnaryReactor's and StreamTransport's.
  void Finish(const grpc::Status& status) override {
    HandOff(this);
    if (reactor_ != nullptr) {
      const bool unparsable = unparsable_.load(std::memory_order_acquire);
      stream_.Finish(unparsable && status.ok() ? UnparsableRequestStatus(method()) : status,
                     &finished_tag_);
    } else if (status.ok() && messages_.response != nullptr) {
      grpc::ByteBuffer bytes;
      bool own_buffer;
      const grpc::Status serialized =
          grpc::SerializationTraits<google::protobuf::Message>::Serialize(*messages_.response,
                                                                          &bytes, &own_buffer);
      if (serialized.ok()) {
        stream_.WriteAndFinish(bytes, grpc::WriteOptions(), status, &finished_tag_);
      } else {
        stream_.Finish(serialized, &finished_tag_);
      }
    } else {
      stream_.Finish(status, &finished_tag_);
    }
  }

  void StartRead(google::protobuf::Message* into) override {
    Started();
    read_into_ = into;
    HandOff(this);
    stream_.Read(&read_bytes_, &read_tag_);
  }
  void StartWrite(const google::protobuf::Message& message) override {
    grpc::ByteBuffer bytes;
    bool own_buffer;
    const grpc::Status serialized = grpc::SerializationTraits<google::protobuf::Message>::Serialize(
        message, &bytes, &own_buffer);
    Started();
    // Only a message over protobuf's 2 GiB fails: the call cannot go on. Its event still comes
    // from the queue (the reactor calls this under its own lock, so it must not run here).
    if (!serialized.ok()) server_context_.TryCancel();
    HandOff(this);
    stream_.Write(bytes, &write_tag_);
  }

 private:
  GenericCall(grpc::AsyncGenericService& service, const RpcMethods& methods,
              grpc::ServerCompletionQueue* queue)
      : RpcContext(server_context_), service_(service), methods_(methods), queue_(queue) {}

  const std::string& method() const { return server_context_.method(); }

  void Arrived(bool ok) {
    if (!ok) {  // the server shuts down: the call never started, no other event comes
      delete this;
      return;
    }
    Await(service_, methods_, queue_);
    if ((unary_ = methods_.unary(method())) != nullptr) {
      Started();
      HandOff(this);
      stream_.Read(&read_bytes_, &read_tag_);
    } else if (const RpcMethods::StreamOpener* open = methods_.stream(method())) {
      reactor_ = (*open)(this);
      Bind(*reactor_, this);
    } else {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("sonic-server does not serve ", method())));
    }
  }

  void Read(bool ok) {
    if (unary_ != nullptr) {
      ReadUnary(ok);
    } else {
      google::protobuf::Message* into = std::exchange(read_into_, nullptr);
      if (ok && !RpcMethods::Parse(read_bytes_, *into)) {
        unparsable_.store(true, std::memory_order_release);
        ok = false;
      }
      read_bytes_.Clear();
      reactor_->OnReadDone(ok);
    }
    Ended();
  }

  void ReadUnary(bool ok) {
    if (!ok) {  // cancelled, or half-closed without a request
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat(method(), " received no request message")));
      return;
    }
    if (!(*unary_)(this, read_bytes_, messages_)) Finish(UnparsableRequestStatus(method()));
    read_bytes_.Clear();
  }

  void Wrote(bool ok) {
    reactor_->OnWriteDone(ok);
    Ended();
  }
  void Finished(bool) { Ended(); }
  void Done(bool) {
    const bool cancelled = server_context_.IsCancelled();
    cancelled_.store(cancelled, std::memory_order_release);
    if (cancelled && reactor_ != nullptr) reactor_->OnCancel();
    Ended();
  }

  void Started() { events_left_.fetch_add(1, std::memory_order_relaxed); }
  void Ended() {
    if (events_left_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (reactor_ != nullptr) reactor_->OnDone();
    delete this;
  }

  grpc::AsyncGenericService& service_;
  const RpcMethods& methods_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::GenericServerContext server_context_;
  grpc::GenericServerAsyncReaderWriter stream_{&server_context_};
  const RpcMethods::UnaryHandler* unary_ = nullptr;
  RpcMethods::UnaryMessages messages_;
  StreamReactor* reactor_ = nullptr;
  grpc::ByteBuffer read_bytes_;
  google::protobuf::Message* read_into_ = nullptr;
  std::atomic<bool> unparsable_{false};
  // Events still to come: the finish and the done event, plus each read and write started.
  std::atomic<int> events_left_{2};
  MemberTag<GenericCall, &GenericCall::Arrived> arrived_tag_{this};
  MemberTag<GenericCall, &GenericCall::Read> read_tag_{this};
  MemberTag<GenericCall, &GenericCall::Wrote> write_tag_{this};
  MemberTag<GenericCall, &GenericCall::Finished> finished_tag_{this};
  MemberTag<GenericCall, &GenericCall::Done> done_tag_{this};
};

void Drain(grpc::ServerCompletionQueue& queue) {
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) static_cast<CompletionTag*>(tag)->Complete(ok);
}

}  // namespace

grpc::Status UnparsableRequestStatus(std::string_view method) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("the request of ", std::string(method),
                                   " is not a valid protobuf message of the method's request type "
                                   "(corrupt, truncated, or of another type)"));
}

void StreamReactor::StartRead(google::protobuf::Message* into) {
  absl::MutexLock lock(&mutex_);
  if (transport_ == nullptr) {
    pending_read_ = into;
  } else {
    transport_->StartRead(into);
  }
}

void StreamReactor::StartWrite(const google::protobuf::Message* message) {
  absl::MutexLock lock(&mutex_);
  if (transport_ == nullptr) {
    pending_write_ = message;
  } else {
    transport_->StartWrite(*message);
  }
}

void StreamReactor::Finish(const grpc::Status& status) {
  absl::MutexLock lock(&mutex_);
  if (transport_ == nullptr) {
    pending_finish_ = status;
  } else {
    transport_->Finish(status);
  }
}

void StreamReactor::Bind(StreamTransport* transport) {
  absl::MutexLock lock(&mutex_);
  transport_ = transport;
  if (pending_read_ != nullptr) transport_->StartRead(std::exchange(pending_read_, nullptr));
  if (pending_write_ != nullptr) transport_->StartWrite(*std::exchange(pending_write_, nullptr));
  if (pending_finish_) transport_->Finish(*std::exchange(pending_finish_, std::nullopt));
}

const RpcMethods::UnaryHandler* RpcMethods::unary(const std::string& name) const {
  auto it = unary_.find(name);
  return it == unary_.end() ? nullptr : &it->second;
}

const RpcMethods::StreamOpener* RpcMethods::stream(const std::string& name) const {
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : &it->second;
}

bool RpcMethods::Parse(const grpc::ByteBuffer& bytes, google::protobuf::Message& message) {
  // The reader only reads the buffer's slices.
  grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(&bytes));
  return message.ParseFromZeroCopyStream(&reader);
}

RawUnaryService::RawUnaryService(const char* method, Handler handler)
    : handler_(std::move(handler)) {
  AddMethod(
      new grpc::internal::RpcServiceMethod(method, grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
  MarkMethodRaw(0);
}

void CompletionThreads::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(&raw_);
  builder.RegisterAsyncGenericService(&generic_);
  for (int i = 0; i < threads_; ++i) queues_.push_back(builder.AddCompletionQueue());
}

void CompletionThreads::Start() {
  for (const auto& queue : queues_) {
    for (int i = 0; i < kAwaitedCalls; ++i) {
      RawUnaryCall::Await(raw_, queue.get());
      GenericCall::Await(generic_, methods_, queue.get());
    }
    running_.emplace_back([queue = queue.get()] { Drain(*queue); });
  }
}

void CompletionThreads::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (const auto& queue : queues_) queue->Shutdown();
  for (std::thread& thread : running_) thread.join();
  // Queues that never had a thread (the server did not start) drain here.
  for (size_t i = running_.size(); i < queues_.size(); ++i) Drain(*queues_[i]);
}

}  // namespace sonic::server
