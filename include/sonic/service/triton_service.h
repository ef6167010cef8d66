// TritonService: the servers a job knows, which models each serves, where each model's requests
// go, what happens when a server dies, and the local fallback server started when nobody serves
// a model. One per job; every TritonClient of the job gets its server through Resolver().
//
//   SONIC_ASSIGN_OR_RETURN(ServiceConfig config, LoadServiceConfig("job.yaml"));
//   SONIC_ASSIGN_OR_RETURN(auto service, TritonService::Create({.config = config}));
//   service->DeclareModel({"particlenet", "/models/particlenet"});   // by a module
//   TritonClient::Options options = service->ClientOptions("particlenet");
//   options.allowed_tries = 3;                                       // failover needs retries
//
// Discovery: each server is asked ServerLive, RepositoryIndex(ready=true) and ModelStatistics
// (for each model's recent queue time) at Create(), at the probe interval (by a background
// thread), and again when a retry finds no other server. A server is healthy when its last probe
// succeeded and it is in routing: clients report every attempt (AttemptObserver()), a failed one
// (unavailable, timeout; not a full queue) counts against its server, and
// kOutOfRoutingFailures failures in a row take it out of routing until a probe finds it well.
//
// Routing (Resolve with no failed address): the preferred server when it is healthy and serves
// the model (the client's own, as CMSSW's per-module preferredServer, else the model's, else
// the job's); otherwise the healthy server serving it with the lowest load, the load being
// the clients routed there and not yet moved away (counted by the service), ties broken by the
// lower recent ServerLive latency, then by name. Never an arbitrary pick. The endpoint returned
// carries the TLS options of the server chosen (ServerConfig::tls; none for a fallback), so each
// client speaks to each server as that server requires.
// Failover (Resolve with the failed address): the server is marked failed and re-probed, then the
// retry policy decides: the same server, another server serving the model, or the fallback.
// ResolveRetry (what clients from ClientOptions use) follows the client's retry chain instead:
// each retry names its step (same server; another server, the healthiest first: fewest recent
// failures, then the lowest recent queue time; the fallback; or the retry policy above), and a
// retry after a full queue goes to a less loaded server when there is one, else stays.
// Model versions: a declared model's local config (<directory>/config.pbtxt, CMSSW's
// modelConfigPath; ClientOptions sets it as the client's local_config_path) is compared at every
// probe with each server's ModelConfig (max_batch_size, inputs, outputs and the "checksum"
// repository agent's file digests). A server with another version does not count as serving the
// model: requests go to a server with the right version, else to the fallback (which serves the
// local files); with the fallback disabled, Resolve fails with FAILED_PRECONDITION (kModelError)
// "model version mismatch" naming each such server and the local config.
// The fallback: one FallbackServer per job, started the first time no healthy server serves a
// declared model, on the declared models that no healthy server serves; models unserved later
// are loaded into it (RepositoryModelLoad), never into a second process (a fallback that died is
// replaced). UNAVAILABLE (retryable) when there is no server and no fallback. A model it could
// not load fails Resolve at once with FAILED_PRECONDITION (client category kModelError, not
// retryable) naming the model and the fallback's reason from its index, and is not tried again
// until declared again. Endpoints of the fallback carry advice for clients that did not choose
// (client::ServerEndpoint): on a GPU, CUDA shared memory; on the CPU, FallbackConfig::
// cpu_client_mode. When calls to the fallback failed during the job (attempts reported failed,
// or a failover away from it), its log is written to Options::log when the service is destroyed.
//
// Thread-safety: thread-safe. Resolve may block for a probe (deadline 2 s per server) and, the
// first time a model needs the fallback, for its startup; fallback starts are serialised. A
// TritonClient in kAsync calls it on the client library's retry threads, never on a gRPC thread.
// Destroying the service stops the background prober and every fallback server (SIGTERM, then
// SIGKILL); no client may resolve through it afterwards.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/client/triton_client.h"
#include "sonic/service/service_config.h"

namespace sonic::service {

// A snapshot of what the service knows about one server.
struct ServerState {
  std::string name;
  std::string address;
  bool healthy = false;
  bool fallback = false;
  std::vector<std::string> models;  // ready models, sorted
  int assigned_clients = 0;
  int failures = 0;            // requests failed on it so far
  double latency_ms = 0;       // smoothed ServerLive round trip
  bool out_of_routing = false;  // failed repeatedly; back when a probe finds it well
  int recent_failures = 0;      // failures in the last minute
  // What the job's clients did there, from their attempt reports.
  struct Activity {
    uint64_t attempts = 0;     // attempts sent there (each one or more ModelInfer calls)
    uint64_t calls = 0;        // ModelInfer calls
    uint64_t failures = 0;     // failed attempts that count against it (unavailable, timeout)
    uint64_t timeouts = 0;     // of which timeouts
    uint64_t overloads = 0;    // attempts refused for a full queue
    uint64_t retries = 0;      // attempts there that were retries
    uint64_t failovers = 0;    // retries sent from it to another server
    absl::Duration time_lost;  // failed and refused attempts, and the backoff they caused
  } activity;
};

// Failures in a row that take a server out of routing.
inline constexpr int kOutOfRoutingFailures = 2;

class TritonService {
 public:
  struct Options {
    ServiceConfig config;
    // Adds the servers of $SONIC_SERVER_ADDRESS (service_config.h) to config.servers.
    bool use_environment = true;
    // Where the fallback's log goes at the end of a job in which calls to it failed (one
    // message); empty: std::clog.
    std::function<void(std::string_view)> log = nullptr;
  };

  // Probes every server once (an unreachable one is kept, unhealthy). INVALID_ARGUMENT for a
  // bad environment variable or duplicate server names.
  static absl::StatusOr<std::unique_ptr<TritonService>> Create(const Options& options);
  ~TritonService();
  TritonService(const TritonService&) = delete;
  TritonService& operator=(const TritonService&) = delete;

  // Declares a model a module needs (name + local model directory for the fallback). A second
  // declaration of the same name replaces the first. INVALID_ARGUMENT for an empty name.
  absl::Status DeclareModel(const ModelDeclaration& model);

  // The server for `model_name`, with its TLS options; see Routing and Failover above.
  // `failed_address` is "" for a first choice. UNAVAILABLE (retryable) when no server serves the
  // model and the fallback is disabled or fails to start (the message then has the fallback's
  // log); FAILED_PRECONDITION when the fallback cannot load the model (its reason is in the
  // message).
  // `preferred_server` names a server this client prefers ("" for none).
  absl::StatusOr<client::ServerEndpoint> Resolve(const std::string& model_name,
                                                 const std::string& failed_address,
                                                 const std::string& preferred_server = "");

  // A ServerResolver calling Resolve with `preferred_server`; valid while the service lives.
  client::ServerResolver Resolver(const std::string& preferred_server = "");

  // The server for a client's retry (see Failover above; preferred servers do not apply); may
  // block like Resolve (probes, the fallback's start). Errors as Resolve's; UNAVAILABLE also
  // when the step has no server (the client then stays where it is).
  absl::StatusOr<client::ServerEndpoint> ResolveRetry(const client::RetryRequest& request);
  // ResolveRetry as a client's RetryResolver; valid while the service lives.
  client::RetryResolver RetryRouter();

  // Counts a client's attempt against (or for) its server; never blocks on I/O.
  void RecordAttempt(const client::AttemptOutcome& outcome);
  // RecordAttempt as a client's AttemptObserver; valid while the service lives.
  client::AttemptObserver AttemptRecorder();

  // The job's budget of retries after full queues, shared by the clients of ClientOptions.
  std::shared_ptr<client::RetryBudget> retry_budget() const;

  // TritonClient options for `model_name` using Resolver(preferred_server) (which gives each
  // server's TLS options with its address), RetryRouter(), AttemptRecorder() and
  // retry_budget().
  client::TritonClient::Options ClientOptions(const std::string& model_name,
                                              const std::string& preferred_server = "");

  // Re-probes every server now (blocks up to 2 s per unreachable server).
  void ProbeAll();

  std::vector<ServerState> Servers() const;

  // The fallback servers' logs, one block per server headed by its address; "" when none ran.
  // Show this when calls failed.
  std::string FallbackLogs() const;
  // The running fallback servers' process ids (for tools and tests).
  std::vector<int> FallbackPids() const;

 private:
  class Impl;
  explicit TritonService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sonic::service
