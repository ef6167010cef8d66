// TritonClient: a SonicClient for one model on a Triton-compatible inference server (our
// sonic-server or a stock Triton), over the KServe v2 gRPC protocol. Modelled on CMSSW's
// SonicTriton; method names follow it (dispatch, setBatchSize, toServer, fromServer...) so that
// module code ports directly.
//
//   TritonClient::Options options;
//   options.server_address = "127.0.0.1:8001";
//   options.model_name = "particlenet";
//   options.mode = SonicMode::kAsync;
//   SONIC_ASSIGN_OR_RETURN(std::unique_ptr<TritonClient> client, TritonClient::Create(options));
//   // per event: client->setBatchSize(n); fill inputs (triton_data.h); client->dispatch(done);
//   // in produce: read outputs, then client->reset().
//
// Batching: the batch has batchSize() entries. When every input has the same shape in every
// entry, one request is sent with the entries stacked along the batch dimension
// (BatchMode::kRectangular); a batch over max_batch_size, or of more than one entry for a model
// that does not batch (max_batch_size 0), is then a kBadInput error at dispatch, as in CMSSW.
// Otherwise (entries of different shapes, or setBatchMode(kRagged)) each entry is its own request
// with batch size 1, and all of them are in flight together (BatchMode::kRagged). A model with an
// allow_ragged_batch input is always sent this way: the server's ragged batcher concatenates
// those requests into one execution, and its batch_input tensors (element counts, offsets) are
// per request, so a request is the unit of raggedness in the protocol.
// Batch size 0 sends nothing; the dispatch succeeds and outputs are empty.
//
// Protocol: inputs in raw_input_contents (in input order), the outputs the client uses named
// explicitly, responses read from raw_output_contents (aligned with outputs[]), unlimited message
// sizes, as stock Triton clients do; with shared memory (Options::shared_memory), tensors of
// fixed-size types are in the client's region instead and output views point into it (with CUDA
// shared memory, into the host copy of the region that the client keeps).
//
// Errors: client_error.h. Create() fails with kServerUnavailable when the server cannot be
// reached, kModelError for an unknown or not-ready model or a local config that does not match
// the server's, kBadInput for bad options (among them CUDA shared memory in a build without CUDA,
// code UNIMPLEMENTED, or on a device this process does not see, code FAILED_PRECONDITION; both
// checked before connecting). Per-request failures reach the dispatch callback.
//
// Thread-safety: as SonicClient (thread-compatible, one dispatch at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/client/client_statistics.h"
#include "sonic/client/retry_policy.h"
#include "sonic/client/sonic_client.h"
#include "sonic/client/tls_options.h"
#include "sonic/client/triton_data.h"

namespace sonic::client {

enum class Compression { kNone, kDeflate, kGzip };
enum class TimeoutUnit { kSeconds, kMilliseconds, kMicroseconds };
enum class BatchMode { kRectangular, kRagged };
// Whether tensors may travel through shared memory instead of the gRPC messages.
// kAuto: system (POSIX) shared memory when the server is on this machine (127.0.0.1, localhost,
// [::1], unix:); kOff: never; kCuda: CUDA shared memory on Options::cuda_device, whatever the
// address (the server must still be on this machine: a CUDA IPC handle is local).
enum class SharedMemoryMode { kAuto, kOff, kCuda };

// A server as a resolver names it: where it listens and the transport security it requires,
// and how clients that did not choose should talk to it (TritonService's advice for its local
// fallback server: Sync on the CPU when configured, CUDA shared memory on a GPU). Create()
// follows the advice for Options::mode and Options::shared_memory when they are unset; a
// failover later keeps the mode.
struct ServerEndpoint {
  std::string address;  // "host:port"
  TlsOptions tls;
  std::optional<SonicMode> mode = std::nullopt;
  // An advised kCuda that cannot be set up (no CUDA in this build, no device) falls back to
  // kAuto; a kCuda the user chose fails Create() instead.
  std::optional<SharedMemoryMode> shared_memory = std::nullopt;
};

// Finds the server for a model: the seam where TritonService (server registry, failover, local
// fallback server) plugs in. Called once by Create() with failed_address "" and, when no
// RetryResolver is set, before a retry after a server-unavailable or timeout error whose chain
// step is not kSameServer, with the address that failed; it returns the server to use, with
// that server's own TLS options. May block (in kAsync it is called on a retry thread, never on a
// transport thread). An error, or an endpoint whose TLS files cannot be read, keeps the current
// server for the retry.
using ServerResolver = std::function<absl::StatusOr<ServerEndpoint>(
    const std::string& model_name, const std::string& failed_address)>;

// What a client tells its RetryResolver before every retry.
struct RetryRequest {
  std::string model_name;
  std::string failed_address;                   // the server of the failed attempt
  RetryTarget target = RetryTarget::kResolver;  // the chain's step; kAnotherServer to reroute
                                                // from a full queue (where a less loaded server
                                                // is better, and the same one is fine)
  FailureKind failure = FailureKind::kUnavailable;
};

// Where a retry goes, told the chain's step and the kind of failure; as ServerResolver
// otherwise (may block, called on a retry thread; an error keeps the current server).
using RetryResolver = std::function<absl::StatusOr<ServerEndpoint>(const RetryRequest&)>;

// One attempt of a dispatch as it ended, for Options::attempt_observer.
struct AttemptOutcome {
  std::string model_name;
  std::string address;      // the server it went to
  size_t requests = 0;      // ModelInfer calls it sent
  bool retry = false;       // not the dispatch's first attempt
  absl::Status status;      // OK, or the error of its first failed call
  absl::Duration duration;  // from sending to the last answer
  absl::Duration backoff;   // the wait it causes before the next attempt (a full queue)
};

// Told every attempt that sent requests. Runs on the thread that ended it (in kAsync a
// transport thread): must be thread-safe and must not block.
using AttemptObserver = std::function<void(const AttemptOutcome&)>;

// Where a client's messages go (a verbose client's reports, notes): one call per message, which
// has no trailing newline. Called on the evaluating thread (in kAsync a gRPC thread), so it
// must be thread-safe and return quickly.
using LogSink = std::function<void(std::string_view message)>;

class TritonClient : public SonicClient {
 public:
  struct Options {
    // Unset: the resolver's advice for the server (ServerEndpoint::mode), else kAsync.
    std::optional<SonicMode> mode;
    // "host:port" of the server. Ignored when `resolver` is set.
    std::string server_address;
    ServerResolver resolver;
    std::string model_name;
    // "" lets the server choose (its latest ready version).
    std::string model_version;
    // Path of a config.pbtxt the module was written against; when set, Create() checks that the
    // server's config has the same max_batch_size, inputs and outputs (names, datatypes, dims,
    // allow_ragged_batch) and fails with kModelError naming the difference.
    std::string local_config_path;
    // Deadline of each attempt, `timeout` in `timeout_unit`; 0 = the automatic deadline below
    // (none when `auto_timeout` is false).
    uint64_t timeout = 0;
    TimeoutUnit timeout_unit = TimeoutUnit::kSeconds;
    // The automatic deadline follows the model's observed latency: auto_timeout_factor times
    // the longest of this client's last 32 successful attempts (before its first, the mean
    // request time the server reports for the model at Create(), when it has served it), kept
    // within [auto_timeout_min, auto_timeout_max]; auto_timeout_max while nothing is known. A
    // hung server then costs a bounded wait, and the timeout is retried elsewhere.
    bool auto_timeout = true;
    double auto_timeout_factor = 20;
    absl::Duration auto_timeout_min = absl::Seconds(5);
    absl::Duration auto_timeout_max = absl::Seconds(60);
    // Total attempts per dispatch (at least 1) when `retry_chain` is empty; only
    // server-unavailable and timeout errors are retried (full queues: `backoff` below).
    int allowed_tries = 1;
    // Where retries go (retry_policy.h); empty: {kResolver, allowed_tries - 1}. A dispatch
    // makes at most ChainAttempts(retry_chain) attempts besides its overload retries.
    RetryChain retry_chain;
    // Used for retries instead of `resolver` when set (TritonService sets both).
    RetryResolver retry_resolver;
    // Told of every attempt (TritonService counts them per server for routing and the report).
    AttemptObserver attempt_observer;
    // A full queue: the wait before sending again (the server's grpc-retry-pushback-ms hint
    // respected), and the tokens such retries spend; null: a budget of this client's own.
    BackoffPolicy backoff;
    std::shared_ptr<RetryBudget> retry_budget;
    // Compression of the requests; responses come back uncompressed (as from Triton by default).
    Compression compression = Compression::kNone;
    // Outputs to request and expose; empty = all of the model's outputs.
    std::vector<std::string> outputs;
    // For `server_address`. Ignored when `resolver` is set: each endpoint it returns carries
    // the TLS options of its server. Its files are read by Create() (a missing one is kBadInput).
    TlsOptions tls;
    // As CMSSW's verbose TritonClient: Create() logs the server and the model's inputs and
    // outputs; every attempt whose requests all succeed logs the server's statistics of the
    // model over the attempt (the difference of a ModelStatistics snapshot taken before its
    // requests and one after them: inferences, executions, successful requests, and per request
    // the average latency split into queue, compute input, compute infer, compute output and
    // overhead), with the client's round trip, before `done` runs. Two more RPCs per attempt:
    // blocking ones on the evaluating thread in kSync and kPseudoAsync, asynchronous ones in
    // kAsync (no thread waits for them). The server's counts cover every client of the model
    // during the attempt. A snapshot that fails gives a note instead of numbers, never a failed
    // dispatch. Also makes statistics() count from Create().
    bool verbose = false;
    // Where the messages go; empty: std::clog.
    LogSink log;
    // Deadline of the setup RPCs in Create() (metadata, config, statistics snapshot).
    absl::Duration setup_timeout = absl::Seconds(60);
    // Prefix of error messages and retry notes; default "TritonClient(<model>)".
    std::string debug_name;
    // kAuto (default): with a local server, one POSIX shared-memory region per client holds the
    // inputs and the outputs of known size (outputs with variable dims still come in the
    // response); it grows with the events, is reused across them, and is unregistered and
    // removed with the client (also after a failed job). When the server does not accept it, the
    // client uses the messages (a note on std::clog when `verbose`).
    // kCuda: the same, the region being device memory on `cuda_device` (cudaMalloc, registered
    // with CudaSharedMemoryRegister): inputs are copied to it before the requests are sent, the
    // outputs of known size copied back after the responses, into a host buffer of the client
    // where their views point; a failed copy of the inputs means the messages from then on, of
    // the outputs a failed dispatch (kModelError). Only in a build with CUDA (SONIC_WITH_CUDA).
    // Unset: the resolver's advice for the server (ServerEndpoint::shared_memory), else kAuto.
    std::optional<SharedMemoryMode> shared_memory;
    // With kCuda: the device of the region, as this process numbers them (CUDA_VISIBLE_DEVICES);
    // the server must see it under the same id. Default 0.
    int cuda_device = 0;
  };

  // Connects, reads the model's metadata and config, checks the local config, and builds the
  // inputs and outputs. Blocks for up to a few setup_timeouts.
  static absl::StatusOr<std::unique_ptr<TritonClient>> Create(const Options& options);

  // Cancels a dispatch in flight and waits for its callback (see SonicClient).
  ~TritonClient() override;

  const std::string& modelName() const;
  // The server in use (it changes only when the resolver fails over).
  std::string serverAddress() const;
  // 0 when the model does not batch.
  int maxBatchSize() const;

  // The model's inputs and the requested outputs, by name.
  std::map<std::string, TritonInputData>& inputs() { return inputs_; }
  const std::map<std::string, TritonOutputData>& outputs() const { return outputs_; }
  // kBadInput naming the known tensors when there is no such one.
  absl::StatusOr<TritonInputData*> input(std::string_view name);
  absl::StatusOr<const TritonOutputData*> output(std::string_view name) const;

  // The number of entries of the next dispatch (default 1); applies to every input. Existing
  // entries keep their shapes, new ones get the shape last given to setShape(shape).
  void setBatchSize(size_t size);
  size_t batchSize() const { return batch_size_; }
  // kRectangular (default) switches to ragged by itself when entries differ; kRagged always
  // sends one request per entry. The choice stays until changed (reset() keeps it).
  void setBatchMode(BatchMode mode) { batch_mode_ = mode; }
  // Back to the default choice (kRectangular, ragged when entries differ), as CMSSW's.
  void resetBatchMode() { batch_mode_ = BatchMode::kRectangular; }
  BatchMode batchMode() const { return batch_mode_; }
  // How the last dispatch was sent: its batch mode and number of ModelInfer requests.
  BatchMode lastBatchMode() const;
  size_t lastRequestCount() const;

  // Clears inputs' data and outputs (their views become invalid) for the next event. Shapes and
  // batch size stay. Not during a dispatch.
  void reset() override;

  // Client-side counts and times of the dispatches so far and, with one ModelStatistics RPC, the
  // server's statistics for the model since Create() (or since the server started, without
  // `verbose`). The server's counts cover every client of the model. kServerUnavailable if the
  // server cannot be asked. Not during a dispatch.
  absl::StatusOr<ClientStatistics> statistics();

 protected:
  void evaluate() override;
  std::optional<absl::Duration> retryDelay(const absl::Status& error) override;
  void prepareRetry(const absl::Status& error) override;
  void completed(const absl::Status& status) override;

 private:
  struct State;
  TritonClient(const Options& options, std::shared_ptr<State> state);

  const std::string& context() const;
  void layOutRegion();
  void useMessagesOnly(const absl::Status& why);
  void buildRequest(size_t i);
  void moveOffRegion();
  absl::Status prepare();
  void launch();
  // Sync and PseudoAsync: starts the calls `to_start` and waits for them on this thread.
  void callOnThisThread(const std::vector<size_t>& to_start);
  bool snapshotBeforeCalls();
  bool snapshotAfterCalls();
  // Records a completed call (`call` == calls.size() for the starting count); true for the last
  // of the attempt. Touches only `state`, which every gRPC callback holds: once the count reaches
  // zero the dispatch may conclude, and the client be destroyed, while other callbacks return.
  static bool RecordCall(State& state, size_t call, const absl::Status& status);
  void conclude();
  absl::Status readResponses();
  void cancelCalls();
  // Switches to `endpoint` (a failover) unless it is the current server.
  void moveTo(const ServerEndpoint& endpoint);
  // Tells the attempt observer about the attempt that just ended (once per attempt).
  void reportAttempt(const absl::Status& status, absl::Duration backoff);
  // The deadline of the next attempt (Options::timeout or the automatic one).
  absl::Duration attemptTimeout() const;

  std::shared_ptr<State> state_;  // shared with in-flight gRPC callbacks
  std::map<std::string, TritonInputData> inputs_;
  std::map<std::string, TritonOutputData> outputs_;
  size_t batch_size_ = 1;
  BatchMode batch_mode_ = BatchMode::kRectangular;
};

}  // namespace sonic::client
