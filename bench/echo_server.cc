#include "echo_server.h"

#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "echo.grpc.pb.h"

namespace sonic::bench {
namespace {

// Answers on gRPC's callback thread: the request's payload is copied into the response (a
// handler gets a const request), the one copy any service returning its input must make.
class EchoServiceImpl final : public EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const EchoMessage* request,
                                 EchoMessage* response) override {
    response->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// One Echo call of the async API: requested, answered, then deleted when its finish returns.
class AsyncEchoCall {
 public:
  static void Await(EchoService::AsyncService& service, grpc::ServerCompletionQueue* queue) {
    auto* call = new AsyncEchoCall;
    service.RequestEcho(&call->context_, &call->request_, &call->writer_, queue, queue, call);
  }

  // The call's next event; `service` and `queue` request the next call when this one arrives.
  void Proceed(bool ok, EchoService::AsyncService& service, grpc::ServerCompletionQueue* queue) {
    if (!ok || answered_) {
      delete this;
      return;
    }
    Await(service, queue);
    response_.set_payload(request_.payload());
    answered_ = true;
    writer_.Finish(response_, grpc::Status::OK, this);
  }

 private:
  grpc::ServerContext context_;
  EchoMessage request_, response_;
  grpc::ServerAsyncResponseWriter<EchoMessage> writer_{&context_};
  bool answered_ = false;
};

// Serves `service`'s calls on this thread until the queue is shut down.
void ServeAsync(EchoService::AsyncService& service, grpc::ServerCompletionQueue& queue) {
  for (int i = 0; i < 4; ++i) AsyncEchoCall::Await(service, &queue);  // as async_rpc.cc
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) static_cast<AsyncEchoCall*>(tag)->Proceed(ok, service, &queue);
}

// The child: serves until killed. Writes the port it listens on (0 when it cannot) to `port_fd`.
[[noreturn]] void ServeInChild(int port_fd, pid_t parent, EchoApi api) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);  // the parent died before prctl
  // The process-wide setting sonic-server's main makes (absl::Mutex, which gRPC locks too).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // A floor is the best the transport can do: megabyte payloads come from, and go back to,
  // malloc's heap instead of fresh mappings, so the echo pays no page faults per request (with
  // glibc's defaults, which one it gets depends on which thread freed the last buffer).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  EchoServiceImpl callback_service;
  EchoService::AsyncService async_service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(INT_MAX);
  builder.SetMaxSendMessageSize(INT_MAX);
  std::unique_ptr<grpc::ServerCompletionQueue> queue;
  if (api == EchoApi::kCallback) {
    builder.RegisterService(&callback_service);
  } else {
    builder.RegisterService(&async_service);
    queue = builder.AddCompletionQueue();
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) port = 0;
  const bool told = write(port_fd, &port, sizeof(port)) == sizeof(port);
  close(port_fd);
  if (!server || !told) _exit(1);
  if (queue) ServeAsync(async_service, *queue);  // until killed
  server->Wait();
  _exit(0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EchoServerProcess>> EchoServerProcess::Start(EchoApi api) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    ServeInChild(fds[1], parent, api);
  }
  close(fds[1]);
  int port = 0;
  ssize_t got;
  do {
    got = read(fds[0], &port, sizeof(port));
  } while (got < 0 && errno == EINTR);
  close(fds[0]);
  // Made whatever the child answered, so that its destructor kills and reaps the child.
  std::unique_ptr<EchoServerProcess> server(new EchoServerProcess(pid, port));
  if (got != sizeof(port) || port <= 0) {
    return absl::InternalError("the echo server could not listen on 127.0.0.1");
  }
  return server;
}

EchoServerProcess::~EchoServerProcess() {
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::string EchoServerProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace sonic::bench
