// How sonic-server's gRPC endpoint runs its calls: gRPC's asynchronous API, driven by a few
// threads of our own, each with its own completion queue.
//
// Why not gRPC's callback API: in gRPC 1.51 it runs every callback on at least two "nexting"
// threads that share one poller, and the poller role moves from one to the other at almost every
// event, so a small request costs about four and a half context switches in the server (one here,
// with one thread per queue) and, on the 2-core machine of the benchmarks, 40% more server CPU.
// A single method on the callback (or the synchronous) API starts those threads for the whole
// server, so every method is served here: ModelInfer as a registered method taking raw bytes
// (RawUnaryService), the others through gRPC's generic service, parsed and answered by the
// table of RpcMethods.
//
// The handlers see a small subset of the callback API's types, so that they read alike:
// RpcContext (the call's metadata, peer, deadline, cancellation), UnaryReactor (Finish once),
// StreamReactor (StartRead, StartWrite, Finish; OnReadDone, OnWriteDone, OnCancel, OnDone).
// Finish, StartRead and StartWrite may be called from any thread; the On* events run on a
// completion-queue thread, one at a time per call.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/async_unary_call.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sonic::server {

class UnaryReactor;

// INVALID_ARGUMENT: the request of `method` ("/package.Service/Method") did not parse.
grpc::Status UnparsableRequestStatus(std::string_view method);

// What a handler knows of its call. Thread-safe.
class RpcContext {
 public:
  const std::multimap<grpc::string_ref, grpc::string_ref>& client_metadata() const {
    return context_.client_metadata();
  }
  std::string peer() const { return context_.peer(); }
  std::chrono::system_clock::time_point deadline() const { return context_.deadline(); }
  // Set before the call is finished.
  void AddTrailingMetadata(const std::string& key, const std::string& value) {
    context_.AddTrailingMetadata(key, value);
  }
  // Whether the client cancelled the call (or it failed on the wire) before it was finished.
  bool IsCancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // The unary call's reactor (null for a stream). Finish it exactly once.
  virtual UnaryReactor* DefaultReactor() = 0;

 protected:
  explicit RpcContext(grpc::ServerContext& context) : context_(context) {}
  ~RpcContext() = default;

  grpc::ServerContext& context_;
  std::atomic<bool> cancelled_{false};
};

class UnaryReactor {
 public:
  // Answers the call: the handler's response message when `status` is OK, else the status
  // alone. Exactly once, from any thread.
  virtual void Finish(const grpc::Status& status) = 0;

 protected:
  ~UnaryReactor() = default;
};

class StreamTransport;

// A bidirectional stream's handler, as grpc::ServerBidiReactor: at most one read and one write
// outstanding; Finish once, after which OnDone comes when every operation has completed. Starts
// made in the constructor take effect once the stream is bound to it.
class StreamReactor {
 public:
  virtual ~StreamReactor() = default;

  virtual void OnReadDone(bool /*ok*/) {}
  virtual void OnWriteDone(bool /*ok*/) {}
  // The client cancelled (or the call failed): outstanding operations complete with !ok.
  virtual void OnCancel() {}
  // Last event of the stream; the reactor may delete itself.
  virtual void OnDone() = 0;

 protected:
  // `into` and `message` must live until the matching OnReadDone / OnWriteDone.
  void StartRead(google::protobuf::Message* into);
  void StartWrite(const google::protobuf::Message* message);
  void Finish(const grpc::Status& status);

 private:
  friend class StreamTransport;
  // Called once by the stream's call; issues what was started before.
  void Bind(StreamTransport* transport);

  absl::Mutex mutex_;
  StreamTransport* transport_ ABSL_GUARDED_BY(mutex_) = nullptr;
  google::protobuf::Message* pending_read_ ABSL_GUARDED_BY(mutex_) = nullptr;
  const google::protobuf::Message* pending_write_ ABSL_GUARDED_BY(mutex_) = nullptr;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mutex_);
};

// The operations a stream's call offers its reactor.
class StreamTransport {
 public:
  virtual void StartRead(google::protobuf::Message* into) = 0;
  virtual void StartWrite(const google::protobuf::Message& message) = 0;
  virtual void Finish(const grpc::Status& status) = 0;

 protected:
  ~StreamTransport() = default;
  static void Bind(StreamReactor& reactor, StreamTransport* transport) { reactor.Bind(transport); }
};

// The methods served through gRPC's generic service, by full name ("/package.Service/Method").
// A method not here is answered UNIMPLEMENTED. Filled before the server starts; read-only after.
class RpcMethods {
 public:
  // Parses the request into a fresh `Request` (an unparsable one is answered INVALID_ARGUMENT:
  // UnparsableRequestStatus) and calls `handler` with a fresh `Response`, which the reactor sends
  // when finished OK. Both messages live until the call ends.
  template <typename Request, typename Response>
  void AddUnary(std::string name,
                std::function<UnaryReactor*(RpcContext*, const Request*, Response*)> handler) {
    unary_[std::move(name)] = [handler = std::move(handler)](RpcContext* context,
                                                             const grpc::ByteBuffer& bytes,
                                                             UnaryMessages& messages) {
      auto request = std::make_unique<Request>();
      if (!Parse(bytes, *request)) return false;
      auto response = std::make_unique<Response>();
      const Request* request_view = request.get();
      Response* response_view = response.get();
      messages.request = std::move(request);
      messages.response = std::move(response);
      handler(context, request_view, response_view);
      return true;
    };
  }
  // A bidirectional stream: `open` returns its reactor, which owns itself.
  void AddStream(std::string name, std::function<StreamReactor*(RpcContext*)> open) {
    streams_[std::move(name)] = std::move(open);
  }

  struct UnaryMessages {
    std::unique_ptr<google::protobuf::Message> request;
    std::unique_ptr<google::protobuf::Message> response;  // sent when the call finishes OK
  };
  // False when the request did not parse (the handler was not called).
  using UnaryHandler = std::function<bool(RpcContext*, const grpc::ByteBuffer&, UnaryMessages&)>;
  using StreamOpener = std::function<StreamReactor*(RpcContext*)>;
  // Null when `name` is not such a method.
  const UnaryHandler* unary(const std::string& name) const;
  const StreamOpener* stream(const std::string& name) const;

  static bool Parse(const grpc::ByteBuffer& bytes, google::protobuf::Message& message);

 private:
  std::map<std::string, UnaryHandler, std::less<>> unary_;
  std::map<std::string, StreamOpener, std::less<>> streams_;
};

// A service of one unary method taking and giving raw bytes, registered with gRPC as the
// generated code registers a "raw" method (so its calls arrive with their request, without the
// generic service's extra read).
class RawUnaryService final : public grpc::Service {
 public:
  using Handler =
      std::function<UnaryReactor*(RpcContext*, const grpc::ByteBuffer*, grpc::ByteBuffer*)>;
  RawUnaryService(const char* method, Handler handler);
  const Handler& handler() const { return handler_; }
  // Asks gRPC for the method's next call on `queue`, which returns `tag` when it arrives.
  void Request(grpc::ServerContext* context, grpc::ByteBuffer* request,
               grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* writer,
               grpc::ServerCompletionQueue* queue, void* tag) {
    RequestAsyncUnary(0, context, request, writer, queue, queue, tag);
  }

 private:
  Handler handler_;
};

// The completion queues and their threads: add the services to the builder with Register, build
// the server, then Start; Stop after the server's Shutdown.
class CompletionThreads {
 public:
  // `threads` >= 1: one completion queue each. Borrows the services and the methods, which must
  // outlive this.
  CompletionThreads(int threads, RawUnaryService& raw, RpcMethods& methods)
      : threads_(threads), raw_(raw), methods_(methods) {}
  ~CompletionThreads() { Stop(); }

  void Register(grpc::ServerBuilder& builder);
  // Requests the first calls on every queue and starts the threads.
  void Start();
  // Shuts the queues down and joins the threads once they have drained them. Call after
  // grpc::Server::Shutdown (which fails the calls still requested) and before destroying the
  // server's services. Idempotent.
  void Stop();

 private:
  const int threads_;
  RawUnaryService& raw_;
  RpcMethods& methods_;
  grpc::AsyncGenericService generic_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> running_;
  bool stopped_ = false;
};

}  // namespace sonic::server
