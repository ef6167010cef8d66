#include "sonic/client/triton_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client_executor.h"
#include "grpc_call.h"
#include "grpc_transport.h"
#include "infer_wire.h"
#include "inference/grpc_service.grpc.pb.h"
#include "io_access.h"
#include "model_io.h"
#include "request_plan.h"
#include "server_statistics.h"
#include "shared_region.h"
#include "sonic/client/client_error.h"
#include "verbose_report.h"

namespace sonic::client {

using internal::IoAccess;

namespace {

// Shuts a completion queue down and drains it before deleting it, as gRPC requires.
struct ShutDownQueue {
  void operator()(grpc::CompletionQueue* queue) const {
    queue->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue->Next(&tag, &ok)) {
    }
    delete queue;
  }
};

}  // namespace

struct TritonClient::State {
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    // As received; parsed into `response` by the thread that completes the call.
    grpc::ByteBuffer body;
    // Sync and PseudoAsync: the call on `own_queue`, and the status it finished with.
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
    grpc::Status finished;
    inference::ModelInferResponse response;  // reused by later dispatches (buffers kept)
    absl::Status status;
    bool succeeded = false;

    // Once the call has finished with `finished_with`: its result, with `response` decoded from
    // `body` when it succeeded; `body` is cleared.
    absl::Status TakeResult(const grpc::Status& finished_with) {
      absl::Status result = transport::FromGrpc(finished_with);
      if (result.ok()) result = internal::DecodeInferResponse(body, response);
      body.Clear();
      return result;
    }
  };

  Options options;
  TlsOptions tls;  // of the current server
  absl::Duration timeout;
  internal::ModelIo io;
  std::string address;
  std::string context;  // Context(options, address), for messages: made when address changes
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub;
  // ModelInfer goes through a generic stub: requests are serialized by infer_wire.h.
  std::unique_ptr<grpc::GenericStub> generic_stub;
  // Sync and PseudoAsync: the dispatching thread waits for its calls on this queue itself, as
  // gRPC's blocking stubs do, instead of being woken by a gRPC thread that ran a callback (a
  // hand-off per call). Made at the first such dispatch; every dispatch drains what it started.
  std::unique_ptr<grpc::CompletionQueue, ShutDownQueue> own_queue;

  void Connect(std::shared_ptr<grpc::Channel> channel) {
    generic_stub = std::make_unique<grpc::GenericStub>(channel);
    stub = inference::GRPCInferenceService::NewStub(std::move(channel));
  }

  // The current dispatch. `calls` is sized once per dispatch, so responses never move while in
  // flight; only failed calls are sent again on a retry. A request that could not be encoded
  // fails its call without being sent.
  internal::RequestPlan plan;
  std::vector<absl::StatusOr<grpc::ByteBuffer>> requests;
  std::vector<Call> calls;
  std::vector<const TritonInputData*> ordered_inputs;

  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  bool cancelled ABSL_GUARDED_BY(mu) = false;

  std::optional<inference::ModelStatistics> start_snapshot;
  std::unique_ptr<internal::AttemptReport> report;  // with `verbose`
  ClientStatistics stats;
  absl::Time dispatch_start;

  // Retries (retry_policy.h): the chain in use, the current dispatch's failures counted by the
  // chain and its overload retries, where the next retry goes, the server's last retry hint.
  RetryChain chain;
  std::shared_ptr<RetryBudget> budget;
  int chain_failures = 0;
  int overload_retries = 0;
  std::optional<RetryRequest> next_retry;
  absl::Duration retry_hint;
  std::mt19937_64 random{std::random_device{}()};
  // The current attempt, and what the automatic deadline derives from: the durations of recent
  // successful attempts, and the server's mean request time for the model at Create().
  absl::Time attempt_start;
  size_t attempt_requests = 0;
  bool attempt_reported = true;
  std::deque<absl::Duration> recent_latencies;
  absl::Duration server_mean_latency;

  // Where the tensors go (last: its destructor unregisters the region through `stub`).
  std::unique_ptr<internal::SharedRegion> region;
};

namespace {

// Successful attempts the automatic deadline looks back on.
constexpr size_t kLatencyWindow = 32;

// gRPC's retry pushback (trailing metadata grpc-retry-pushback-ms): how long the server asks
// clients to wait before sending again; zero when it gives none.
absl::Duration RetryHint(const grpc::ClientContext* context) {
  if (context == nullptr) return absl::ZeroDuration();
  const auto& trailers = context->GetServerTrailingMetadata();
  auto hint = trailers.find("grpc-retry-pushback-ms");
  int64_t ms = 0;
  if (hint == trailers.end() ||
      !absl::SimpleAtoi(std::string(hint->second.data(), hint->second.size()), &ms) || ms <= 0) {
    return absl::ZeroDuration();
  }
  return absl::Milliseconds(ms);
}

std::string Context(const TritonClient::Options& options, const std::string& address) {
  return absl::StrCat("model '", options.model_name, "'",
                      options.model_version.empty() ? "" : " version " + options.model_version,
                      " on server '", address, "'");
}

std::unique_ptr<grpc::ClientContext> SetupContext(const TritonClient::Options& options) {
  auto context = std::make_unique<grpc::ClientContext>();
  transport::SetTimeout(*context, options.setup_timeout);
  return context;
}

// The model's metadata and config from the server, with `context` in the errors.
absl::StatusOr<internal::ModelIo> FetchModel(inference::GRPCInferenceService::Stub& stub,
                                             const TritonClient::Options& options,
                                             const std::string& context) {
  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name(options.model_name);
  metadata_request.set_version(options.model_version);
  inference::ModelMetadataResponse metadata;
  SONIC_RETURN_IF_ERROR(
      ClassifyError(transport::FromGrpc(stub.ModelMetadata(SetupContext(options).get(),
                                                           metadata_request, &metadata)),
                    absl::StrCat(context, ": ModelMetadata")));
  inference::ModelConfigRequest config_request;
  config_request.set_name(options.model_name);
  config_request.set_version(options.model_version);
  inference::ModelConfigResponse config;
  SONIC_RETURN_IF_ERROR(ClassifyError(
      transport::FromGrpc(stub.ModelConfig(SetupContext(options).get(), config_request, &config)),
      absl::StrCat(context, ": ModelConfig")));
  if (!options.local_config_path.empty()) {
    SONIC_RETURN_IF_ERROR(internal::CheckLocalConfig(options.local_config_path, config.config(),
                                                     options.model_version, context));
  }
  return internal::DescribeModel(metadata, config.config(), options.outputs, context);
}

// The statistics of the client's model in one ModelStatistics response.
absl::StatusOr<inference::ModelStatistics> FetchStatistics(
    inference::GRPCInferenceService::Stub& stub, const TritonClient::Options& options,
    const std::string& context) {
  inference::ModelStatisticsRequest request;
  request.set_name(options.model_name);
  request.set_version(options.model_version);
  inference::ModelStatisticsResponse response;
  SONIC_RETURN_IF_ERROR(ClassifyError(
      transport::FromGrpc(stub.ModelStatistics(SetupContext(options).get(), request, &response)),
      absl::StrCat(context, ": ModelStatistics")));
  for (const inference::ModelStatistics& stats : response.model_stats()) {
    if (stats.name() == options.model_name) return stats;
  }
  return MakeClientError(absl::StatusCode::kNotFound, ErrorCategory::kModelError,
                         absl::StrCat(context, ": no statistics for the model"));
}

internal::SharedRegion::Options RegionOptions(const TritonClient::Options& options) {
  return {.mode = options.shared_memory.value_or(SharedMemoryMode::kAuto),
          .cuda_device = options.cuda_device,
          .setup_timeout = options.setup_timeout};
}

absl::StatusOr<ServerEndpoint> ResolveEndpoint(const TritonClient::Options& options) {
  if (options.model_name.empty()) {
    return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                           "TritonClient: no model_name given");
  }
  ServerEndpoint endpoint{options.server_address, options.tls};
  if (options.resolver) {
    absl::StatusOr<ServerEndpoint> resolved = options.resolver(options.model_name, "");
    SONIC_RETURN_IF_ERROR(ClassifyError(
        resolved.status(), absl::StrCat("model '", options.model_name, "': finding a server")));
    endpoint = *std::move(resolved);
  }
  if (endpoint.address.empty()) {
    return MakeClientError(
        absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
        absl::StrCat("model '", options.model_name, "': no server_address (or resolver) given"));
  }
  return endpoint;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TritonClient>> TritonClient::Create(const Options& options) {
  auto state = std::make_shared<State>();
  state->options = options;
  if (state->options.debug_name.empty()) {
    state->options.debug_name = absl::StrCat("TritonClient(", options.model_name, ")");
  }
  SONIC_ASSIGN_OR_RETURN(ServerEndpoint endpoint, ResolveEndpoint(options));
  const bool advised_cuda =
      !options.shared_memory.has_value() && endpoint.shared_memory == SharedMemoryMode::kCuda;
  if (!state->options.mode) state->options.mode = endpoint.mode.value_or(SonicMode::kAsync);
  if (!state->options.shared_memory) {
    state->options.shared_memory = endpoint.shared_memory.value_or(SharedMemoryMode::kAuto);
  }
  state->address = endpoint.address;
  state->context = Context(options, state->address);
  state->tls = endpoint.tls;
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                         internal::ChannelTo(state->address, state->tls));
  state->timeout = internal::TimeoutOf(options.timeout, options.timeout_unit);
  state->Connect(std::move(channel));
  const std::string& context = state->context;
  State* raw_state = state.get();
  const auto stub = [raw_state] { return raw_state->stub.get(); };
  absl::StatusOr<std::unique_ptr<internal::SharedRegion>> region =
      internal::SharedRegion::Create(RegionOptions(state->options), state->address, stub);
  if (!region.ok() && advised_cuda) {
    state->options.shared_memory = SharedMemoryMode::kAuto;
    region = internal::SharedRegion::Create(RegionOptions(state->options), state->address, stub);
  }
  if (!region.ok()) {
    return MakeClientError(region.status().code(), ErrorCategory::kBadInput,
                           absl::StrCat(context, ": ", region.status().message()));
  }
  state->region = *std::move(region);
  SONIC_ASSIGN_OR_RETURN(state->io, FetchModel(*state->stub, options, context));
  if (options.timeout == 0 && options.auto_timeout) {
    // The automatic deadline's first estimate; without statistics it starts at auto_timeout_max.
    absl::StatusOr<inference::ModelStatistics> snapshot =
        FetchStatistics(*state->stub, options, context);
    if (snapshot.ok() && snapshot->inference_stats().success().count() > 0) {
      const auto& success = snapshot->inference_stats().success();
      state->server_mean_latency = absl::Nanoseconds(success.ns() / success.count());
    }
  }
  state->chain = options.retry_chain;
  if (state->chain.empty() && options.allowed_tries > 1) {
    state->chain.push_back({RetryTarget::kResolver, options.allowed_tries - 1});
  }
  state->budget = options.retry_budget ? options.retry_budget : std::make_shared<RetryBudget>();
  if (options.verbose) {
    // Servers without statistics still serve; the report then has client-side numbers only.
    absl::StatusOr<inference::ModelStatistics> snapshot =
        FetchStatistics(*state->stub, options, context);
    if (snapshot.ok()) state->start_snapshot = *std::move(snapshot);
    state->report = std::make_unique<internal::AttemptReport>(
        options.model_name, options.model_version,
        std::min(options.setup_timeout, absl::Seconds(10)));
    internal::WriteLog(options.log,
                       internal::DescribeModelForLog(
                           state->io, absl::StrCat(state->options.debug_name, ": ", context)));
  }
  const Options resolved = state->options;
  return std::unique_ptr<TritonClient>(new TritonClient(resolved, std::move(state)));
}

TritonClient::TritonClient(const Options& options, std::shared_ptr<State> state)
    : SonicClient(options.mode.value_or(SonicMode::kAsync), ChainAttempts(state->chain),
                  options.debug_name),
      state_(std::move(state)) {
  const std::string& where = context();
  for (const TensorInfo& info : state_->io.inputs) {
    auto [it, inserted] = inputs_.try_emplace(info.name, info, where);
    state_->ordered_inputs.push_back(&it->second);
  }
  for (const TensorInfo& info : state_->io.outputs) outputs_.try_emplace(info.name, info, where);
}

TritonClient::~TritonClient() {
  shutdown([this] { cancelCalls(); });
}

const std::string& TritonClient::context() const { return state_->context; }

const std::string& TritonClient::modelName() const { return state_->options.model_name; }
std::string TritonClient::serverAddress() const { return state_->address; }
int TritonClient::maxBatchSize() const { return state_->io.max_batch_size; }
BatchMode TritonClient::lastBatchMode() const { return state_->plan.mode; }
size_t TritonClient::lastRequestCount() const { return state_->plan.requests.size(); }

absl::StatusOr<TritonInputData*> TritonClient::input(std::string_view name) {
  auto it = inputs_.find(std::string(name));
  if (it != inputs_.end()) return &it->second;
  std::vector<std::string> names;
  for (const auto& [known, unused] : inputs_) names.push_back(known);
  return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                         absl::StrCat(context(), ": no input '", std::string(name),
                                      "' (inputs: ", absl::StrJoin(names, ", "), ")"));
}

absl::StatusOr<const TritonOutputData*> TritonClient::output(std::string_view name) const {
  auto it = outputs_.find(std::string(name));
  if (it != outputs_.end()) return &it->second;
  std::vector<std::string> names;
  for (const auto& [known, unused] : outputs_) names.push_back(known);
  return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                         absl::StrCat(context(), ": no output '", std::string(name),
                                      "' (requested outputs: ", absl::StrJoin(names, ", "), ")"));
}

void TritonClient::setBatchSize(size_t size) {
  batch_size_ = size;
  for (auto& [name, input] : inputs_) IoAccess::SetBatchSize(input, size);
}

void TritonClient::reset() {
  for (auto& [name, input] : inputs_) IoAccess::Reset(input);
  for (auto& [name, output] : outputs_) IoAccess::Reset(output);
  state_->requests.clear();  // releases the inputs' memory; the calls keep their buffers
  state_->region->Reset();
}

// Lays the dispatch out in the shared region (SharedRegion::LayOut).
void TritonClient::layOutRegion() {
  absl::Status laid = state_->region->LayOut(state_->plan, state_->ordered_inputs, outputs_,
                                             state_->io.max_batch_size > 0);
  if (!laid.ok()) useMessagesOnly(laid);
}

// Gives up the region for the rest of the client's life: a server that refused it, or a device
// copy that failed, would refuse or fail again.
void TritonClient::useMessagesOnly(const absl::Status& why) {
  if (state_->options.verbose) {
    internal::WriteLog(state_->options.log,
                       absl::StrCat(context(), ": no shared memory, tensors travel in the ",
                                    "messages: ", why.ToString()));
  }
  state_->region->GiveUp();
}

void TritonClient::evaluate() {
  if (shuttingDown()) {
    finish(false, MakeClientError(absl::StatusCode::kCancelled, ErrorCategory::kServerUnavailable,
                                  absl::StrCat(context(), ": the client is being destroyed")));
    return;
  }
  if (tries() == 1) {  // a new dispatch
    state_->chain_failures = 0;
    state_->overload_retries = 0;
    if (absl::Status prepared = prepare(); !prepared.ok()) {
      finish(false, prepared);
      return;
    }
    if (state_->requests.empty()) {  // batch size 0: nothing to send
      conclude();
      return;
    }
  }
  launch();
}

// Builds request i of the plan, its tensors in the region where its layout says so.
void TritonClient::buildRequest(size_t i) {
  const internal::PlannedRequest& planned = state_->plan.requests[i];
  internal::SharedRegion& region = *state_->region;
  internal::InferRequestParts request = internal::BuildRequest(
      state_->options.model_name, state_->options.model_version, state_->ordered_inputs, outputs_,
      planned, state_->io.max_batch_size > 0, region.InputsInRegion(i));
  if (region.InRegion(i)) region.Place(i, state_->ordered_inputs, planned, request.message);
  absl::StatusOr<grpc::ByteBuffer> encoded = internal::EncodeInferRequest(request);
  if (!encoded.ok()) {
    encoded = MakeClientError(encoded.status().code(), ErrorCategory::kBadInput,
                              std::string(encoded.status().message()));
  }
  state_->requests[i] = std::move(encoded);
}

absl::Status TritonClient::prepare() {
  state_->dispatch_start = absl::Now();
  for (auto& [name, output] : outputs_) IoAccess::Reset(output);
  state_->requests.clear();
  state_->plan = {};
  SONIC_ASSIGN_OR_RETURN(state_->plan,
                         internal::PlanRequests(state_->ordered_inputs, batch_size_,
                                                state_->io.max_batch_size, batch_mode_, context()));
  layOutRegion();
  state_->requests.resize(state_->plan.requests.size());
  for (size_t i = 0; i < state_->requests.size(); ++i) buildRequest(i);
  if (absl::Status flushed = state_->region->FlushInputs(); !flushed.ok()) {
    useMessagesOnly(flushed);
    for (size_t i = 0; i < state_->requests.size(); ++i) buildRequest(i);
  }
  state_->calls.resize(state_->requests.size());  // kept responses keep their buffers
  for (State::Call& call : state_->calls) {
    call.status = absl::OkStatus();
    call.succeeded = false;
  }
  return absl::OkStatus();
}

void TritonClient::launch() {
  if (snapshotBeforeCalls()) return;
  std::vector<size_t> to_start;
  const absl::Duration timeout = attemptTimeout();
  {
    absl::MutexLock lock(&state_->mu);
    for (size_t i = 0; i < state_->calls.size(); ++i) {
      State::Call& call = state_->calls[i];
      if (call.succeeded) continue;
      call.context = std::make_unique<grpc::ClientContext>();
      internal::ConfigureCall(*call.context, timeout, state_->options.compression);
      if (state_->cancelled) call.context->TryCancel();
      call.response.Clear();
      to_start.push_back(i);
    }
    // One extra count held while starting, so that no completion concludes before all started.
    state_->pending = static_cast<int>(to_start.size()) + 1;
  }
  ++state_->stats.attempts;
  state_->stats.requests += to_start.size();
  state_->attempt_start = absl::Now();
  state_->attempt_requests = to_start.size();
  state_->attempt_reported = false;
  if (mode() != SonicMode::kAsync) {
    callOnThisThread(to_start);
    conclude();
    return;
  }
  for (size_t i : to_start) {
    State::Call& call = state_->calls[i];
    if (!state_->requests[i].ok()) {
      RecordCall(*state_, i, state_->requests[i].status());  // never the last count
      continue;
    }
    auto completed = [this, state = state_, i](grpc::Status status) {
      // The last completion concludes on this thread (the client waits for it).
      if (RecordCall(*state, i, state->calls[i].TakeResult(status))) conclude();
    };
    state_->generic_stub->UnaryCall(call.context.get(), transport::kModelInferMethod,
                                    grpc::StubOptions(), &*state_->requests[i], &call.body,
                                    std::move(completed));
  }
  // Releases the starting count. When every call already finished (a fast server, a
  // server that refuses connections), the dispatch concludes on a completion thread rather than
  // the caller's: dispatch() returns before the callback runs, and a retry (posted on by
  // finish()) never holds the caller. A completion thread is never queued behind a retry whose
  // resolver blocks. The client waits for that finish() before it can be destroyed.
  if (RecordCall(*state_, state_->calls.size(), absl::OkStatus())) {
    if (!internal::ClientExecutor::Completions().Post([this] { conclude(); })) {
      std::thread([this] { conclude(); }).detach();  // the completion queue is full
    }
  }
}

void TritonClient::callOnThisThread(const std::vector<size_t>& to_start) {
  if (state_->own_queue == nullptr) state_->own_queue.reset(new grpc::CompletionQueue());
  grpc::CompletionQueue& queue = *state_->own_queue;
  size_t started = 0;
  for (size_t i : to_start) {
    State::Call& call = state_->calls[i];
    if (!state_->requests[i].ok()) {
      RecordCall(*state_, i, state_->requests[i].status());  // never the last count
      continue;
    }
    call.reader = state_->generic_stub->PrepareUnaryCall(
        call.context.get(), transport::kModelInferMethod, *state_->requests[i], &queue);
    call.reader->StartCall();
    call.reader->Finish(&call.body, &call.finished, &call);
    ++started;
  }
  RecordCall(*state_, state_->calls.size(), absl::OkStatus());  // the starting count
  for (; started > 0; --started) {
    void* tag = nullptr;
    bool ok = false;
    if (!queue.Next(&tag, &ok)) break;  // never: the queue is shut down only when destroyed
    auto& call = *static_cast<State::Call*>(tag);
    call.reader.reset();
    RecordCall(*state_, static_cast<size_t>(&call - state_->calls.data()),
               call.TakeResult(call.finished));
  }
}

bool TritonClient::RecordCall(State& state, size_t call, const absl::Status& status) {
  absl::MutexLock lock(&state.mu);
  if (call < state.calls.size()) {
    state.calls[call].status = status;
    state.calls[call].succeeded = status.ok();
  }
  return --state.pending == 0;
}

// With `verbose`: the snapshot before an attempt's calls; true when launch() continues on a
// gRPC thread once it is in (kAsync), false when the calls are to start now.
bool TritonClient::snapshotBeforeCalls() {
  internal::AttemptReport* report = state_->report.get();
  if (report == nullptr || report->begun()) return false;
  if (mode() != SonicMode::kAsync) {
    report->Begin(*state_->stub);
    return false;
  }
  report->BeginAsync(*state_->stub, [this] { launch(); });
  return true;
}

// With `verbose`: the snapshot after an attempt's calls and the report, logged before the
// dispatch goes on; true when conclude() continues on a gRPC thread once it is logged (kAsync).
bool TritonClient::snapshotAfterCalls() {
  internal::AttemptReport* report = state_->report.get();
  if (report == nullptr || !report->begun()) return false;
  for (const State::Call& call : state_->calls) {
    if (!call.succeeded) {
      report->Abandon();
      return false;
    }
  }
  const auto log = [this] {
    internal::WriteLog(state_->options.log, absl::StrCat(state_->options.debug_name, ": ",
                                                         context(), ": ", state_->report->Take()));
  };
  if (mode() != SonicMode::kAsync) {
    report->End(*state_->stub);
    log();
    return false;
  }
  report->EndAsync(*state_->stub, [this, log] {
    log();
    conclude();
  });
  return true;
}

void TritonClient::conclude() {
  if (snapshotAfterCalls()) return;
  const size_t count = state_->calls.size();
  for (size_t i = 0; i < count; ++i) {
    const State::Call& call = state_->calls[i];
    if (call.succeeded) continue;
    std::string where = context();
    if (count > 1) absl::StrAppend(&where, ", request ", i + 1, " of ", count);
    state_->retry_hint = RetryHint(call.context.get());
    finish(false, ClassifyError(call.status, where));
    return;
  }
  if (absl::Status read = readResponses(); !read.ok()) {
    finish(false, read);
    return;
  }
  finish(true);
}

absl::Status TritonClient::readResponses() {
  if (absl::Status fetched = state_->region->FetchOutputs(); !fetched.ok()) {
    return ClassifyError(fetched,
                         absl::StrCat(context(), ": reading the outputs from shared memory"));
  }
  for (auto& [name, output] : outputs_) IoAccess::ClearEntries(output, batch_size_);
  const bool batched = state_->io.max_batch_size > 0;
  for (size_t i = 0; i < state_->calls.size(); ++i) {
    SONIC_RETURN_IF_ERROR(internal::ReadResponse(state_->calls[i].response,
                                                 state_->plan.requests[i], batched, outputs_,
                                                 context(), state_->region->Outputs(i)));
  }
  for (auto& [name, output] : outputs_) IoAccess::Publish(output);
  return absl::OkStatus();
}

void TritonClient::cancelCalls() {
  if (state_->report != nullptr) state_->report->Cancel();
  absl::MutexLock lock(&state_->mu);
  state_->cancelled = true;
  for (State::Call& call : state_->calls) {
    if (call.context != nullptr) call.context->TryCancel();
  }
}

absl::Duration TritonClient::attemptTimeout() const {
  const Options& options = state_->options;
  if (options.timeout != 0) return state_->timeout;
  if (!options.auto_timeout) return absl::InfiniteDuration();
  absl::Duration observed = state_->server_mean_latency;
  if (!state_->recent_latencies.empty()) {
    observed = *std::max_element(state_->recent_latencies.begin(), state_->recent_latencies.end());
  }
  if (observed <= absl::ZeroDuration()) return options.auto_timeout_max;
  return std::clamp(observed * options.auto_timeout_factor, options.auto_timeout_min,
                    std::max(options.auto_timeout_min, options.auto_timeout_max));
}

std::optional<absl::Duration> TritonClient::retryDelay(const absl::Status& error) {
  const FailureKind kind = ClassifyFailure(error);
  std::optional<absl::Duration> delay;
  state_->next_retry.reset();
  if (kind == FailureKind::kOverloaded) {
    // Not the server's fault: wait and send again, rerouting when a less loaded server exists.
    if (state_->overload_retries < state_->options.backoff.max_retries &&
        state_->budget->TrySpend()) {
      ++state_->overload_retries;
      const double draw = std::uniform_real_distribution<double>(0, 1)(state_->random);
      delay =
          BackoffDelay(state_->options.backoff, state_->overload_retries, draw, state_->retry_hint);
      state_->next_retry = RetryRequest{state_->options.model_name, state_->address,
                                        RetryTarget::kAnotherServer, kind};
    }
  } else if (const RetryStep* step = ChainStep(state_->chain, ++state_->chain_failures)) {
    delay = absl::ZeroDuration();
    state_->next_retry =
        RetryRequest{state_->options.model_name, state_->address, step->target, kind};
  }
  reportAttempt(error, delay.value_or(absl::ZeroDuration()));
  return delay;
}

void TritonClient::prepareRetry(const absl::Status& error) {
  if (!state_->next_retry.has_value()) return;
  const RetryRequest request = *state_->next_retry;
  absl::StatusOr<ServerEndpoint> endpoint;
  if (state_->options.retry_resolver) {
    endpoint = state_->options.retry_resolver(request);
  } else if (state_->options.resolver && request.target != RetryTarget::kSameServer &&
             request.failure != FailureKind::kOverloaded) {
    endpoint = state_->options.resolver(state_->options.model_name, state_->address);
  } else {
    return;
  }
  if (endpoint.ok()) moveTo(*endpoint);
}

void TritonClient::moveTo(const ServerEndpoint& endpoint) {
  if (endpoint.address.empty() ||
      (endpoint.address == state_->address && endpoint.tls == state_->tls)) {
    return;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      internal::ChannelTo(endpoint.address, endpoint.tls);
  if (!channel.ok()) return;
  state_->address = endpoint.address;
  state_->context = Context(state_->options, state_->address);
  state_->tls = endpoint.tls;
  state_->Connect(*std::move(channel));
  for (auto& [name, input] : inputs_) IoAccess::SetContext(input, context());
  for (auto& [name, output] : outputs_) IoAccess::SetContext(output, context());
  moveOffRegion();
}

void TritonClient::reportAttempt(const absl::Status& status, absl::Duration backoff) {
  if (state_->attempt_reported) return;
  state_->attempt_reported = true;
  if (status.ok()) {
    state_->recent_latencies.push_back(absl::Now() - state_->attempt_start);
    if (state_->recent_latencies.size() > kLatencyWindow) state_->recent_latencies.pop_front();
  }
  if (!state_->options.attempt_observer || state_->attempt_requests == 0) return;
  state_->options.attempt_observer(AttemptOutcome{state_->options.model_name, state_->address,
                                                  state_->attempt_requests, tries() > 1, status,
                                                  absl::Now() - state_->attempt_start, backoff});
}

// After a failover: the region belongs to the old server. Requests still to be sent carry their
// tensors in the messages; answered ones keep their output views in the old region, which stays
// mapped until the outputs are reset. The next dispatch uses a resource for the new server.
void TritonClient::moveOffRegion() {
  State* state = state_.get();
  state_->region->MoveTo(state_->address, [state] { return state->stub.get(); });
  if (!state_->region->InUse()) return;
  for (size_t i = 0; i < state_->calls.size(); ++i) {
    if (state_->calls[i].succeeded) continue;
    state_->region->Forget(i);  // everything in the messages
    buildRequest(i);
  }
}

void TritonClient::completed(const absl::Status& status) {
  reportAttempt(status, absl::ZeroDuration());
  if (status.ok()) state_->budget->Refill();
  ++state_->stats.dispatches;
  if (!status.ok()) {
    ++state_->stats.failures;
    state_->region->ReleaseBeforeNextDispatch();
  }
  state_->stats.wait_time += absl::Now() - state_->dispatch_start;
}

absl::StatusOr<ClientStatistics> TritonClient::statistics() {
  ClientStatistics stats = state_->stats;
  SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics now,
                         FetchStatistics(*state_->stub, state_->options, context()));
  stats.server = internal::DiffServerStatistics(
      state_->start_snapshot.value_or(inference::ModelStatistics()), now);
  return stats;
}

}  // namespace sonic::client
