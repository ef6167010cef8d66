#include "sonic/service/triton_service.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "client/model_io.h"
#include "routing.h"
#include "server_probe.h"
#include "sonic/client/client_error.h"
#include "sonic/common/status.h"
#include "sonic/service/fallback_server.h"

namespace sonic::service {
namespace {

constexpr absl::Duration kProbeDeadline = absl::Seconds(2);
// How far back "recent" failures and full-queue refusals reach.
constexpr absl::Duration kRecentWindow = absl::Seconds(60);

// Events within kRecentWindow of now, oldest first.
class RecentEvents {
 public:
  void Add(absl::Time now) {
    times_.push_back(now);
    Trim(now);
  }
  int Count(absl::Time now) const {
    return static_cast<int>(std::count_if(
        times_.begin(), times_.end(), [now](absl::Time t) { return t >= now - kRecentWindow; }));
  }

 private:
  void Trim(absl::Time now) {
    while (!times_.empty() && times_.front() < now - kRecentWindow) times_.pop_front();
  }
  std::deque<absl::Time> times_;
};

struct Server {
  ServerConfig config;
  bool healthy = false;
  bool fallback = false;
  std::set<std::string> models;
  std::string probe_error;                    // why the last probe failed ("" when it did not)
  bool probing = false;                       // a probe of it is in flight
  uint64_t probes = 0;                        // probes completed
  std::map<std::string, std::string> unready;  // its models not ready, with the server's reason
  int assigned = 0;
  int failures = 0;
  double latency_ms = 0;
  // Retry routing: failures in a row, out of routing until a probe succeeds, recent failures
  // and refusals, each model's queue totals at the last probe and recent mean queue time.
  int failures_in_a_row = 0;
  bool out_of_routing = false;
  RecentEvents recent_failures;
  RecentEvents recent_overloads;
  std::map<std::string, internal::QueueTotals> queue_totals;
  std::map<std::string, double> queue_ms;
  ServerState::Activity activity;
  // Declared models it serves in another version than the local config: model -> difference.
  std::map<std::string, std::string> mismatched;
  // For a fallback's clients that did not choose (ServerEndpoint::mode, ::shared_memory).
  std::optional<client::SonicMode> advised_mode;
  std::optional<client::SharedMemoryMode> advised_shared_memory;
};

}  // namespace

class TritonService::Impl {
 public:
  explicit Impl(ServiceConfig config) : config_(std::move(config)) {
    for (const ServerConfig& server : config_.servers) {
      Server entry;
      entry.config = server;
      servers_.push_back(std::move(entry));
    }
    for (const ModelDeclaration& model : config_.models) models_[model.name] = model;
  }
  ~Impl();

  void StartProber() { prober_ = std::thread([this] { ProbeLoop(); }); }
  absl::Status DeclareModel(const ModelDeclaration& model);
  absl::StatusOr<client::ServerEndpoint> Resolve(const std::string& model,
                                                 const std::string& failed,
                                                 const std::string& preferred);
  void ProbeAll();
  absl::StatusOr<client::ServerEndpoint> ResolveRetry(const client::RetryRequest& request);
  void RecordAttempt(const client::AttemptOutcome& outcome);
  std::shared_ptr<client::RetryBudget> retry_budget() const { return retry_budget_; }
  std::vector<ServerState> Servers() const;
  std::string FallbackLogs() const;
  std::vector<int> FallbackPids() const;

 private:
  void ProbeLoop();
  // Probes `server` and records what it found; waits for the probe in flight instead, if any.
  void Probe(const ServerConfig& server);
  // The index of the server named `name` in servers_ (which only grows); -1 when unknown.
  int Find(const std::string& name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (servers_[i].config.name == name) return static_cast<int>(i);
    }
    return -1;
  }
  // Marks the server at `address` failed and moves one client away from it.
  void MarkFailed(const std::string& address);
  // ChooseServer over the current state; counts the client on success. No address when none.
  // `preferred` (a client's own) comes before the model's and the job's preferred server.
  client::ServerEndpoint Choose(const std::string& model, const std::string& excluded,
                                const std::string& preferred = "");
  // The known server at `address` with its TLS options (none for an unknown address).
  client::ServerEndpoint EndpointAt(const std::string& address) const;
  // The routing candidates for `model`; those out of routing count as unhealthy.
  std::vector<internal::RouteCandidate> Candidates(const std::string& model) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A retry's move from `from` to servers_[to]: the client's count moves, a failover is counted.
  client::ServerEndpoint MoveClient(const std::string& from, int to)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ResolveRetry's steps: another server (probing when none), after a full queue a less loaded
  // one; UNAVAILABLE when there is none (and, for a failure, no fallback).
  absl::StatusOr<client::ServerEndpoint> RetryElsewhere(const client::RetryRequest& request);
  absl::StatusOr<client::ServerEndpoint> RerouteFromFullQueue(const client::RetryRequest& request);
  // The model's running fallback server, else FromFallback.
  absl::StatusOr<client::ServerEndpoint> RetryOnFallback(const client::RetryRequest& request);
  absl::StatusOr<client::ServerEndpoint> FromFallback(const std::string& model);
  // Loads `models` into the job's fallback server, or starts it on them (adding it to servers_)
  // when none runs; one that died is replaced, its log kept. Per model, "" or why it failed.
  absl::StatusOr<FallbackServer::LoadResults> StartOrLoadFallback(
      const std::vector<ModelDeclaration>& models) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fallback_mu_);
  // StartOrLoadFallback for those of `models` it does not serve yet; records the ones it could
  // not load in unloadable_ and serves the others.
  absl::Status LoadIntoFallback(std::vector<ModelDeclaration> models)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fallback_mu_);
  // For the declared models among `served` by `server` (not a fallback): model -> how the
  // server's config differs from the local config (its ModelConfig; blocks on the RPCs).
  std::map<std::string, std::string> VersionMismatches(const ServerConfig& server,
                                                       const std::vector<std::string>& served);
  // FAILED_PRECONDITION (model error) naming the servers with another version of `model`; OK
  // when none.
  absl::Status VersionMismatchError(const std::string& model) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Per server, why it does not serve `model` now: "server 'a' (host:port): <reason>; ...".
  std::string WhyUnserved(const std::string& model) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

 public:
  // `endpoint` with the advice for clients of the fallback server (ServerEndpoint::mode,
  // ::shared_memory) when it is the fallback's.
  client::ServerEndpoint Advise(client::ServerEndpoint endpoint) const;
  // Counts a failed call when `address` is the fallback's (its log is shown at the end).
  void NoteFallbackFailure(const std::string& address);
  void SetLog(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  // <directory>/config.pbtxt of the declared model; "" when not declared.
  std::string LocalConfigPath(const std::string& model) const {
    absl::MutexLock lock(&mu_);
    auto declared = models_.find(model);
    // A model declared without a local directory (served remotely only) has nothing to compare.
    if (declared == models_.end() || declared->second.directory.empty()) return "";
    return (declared->second.directory / "config.pbtxt").string();
  }

 private:
  // Declared models no healthy server serves, except those a fallback could not load.
  std::vector<ModelDeclaration> UnservedModels() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FAILED_PRECONDITION (category model error: not retryable) for a model the fallback could not
  // load, with the fallback's reason.
  absl::Status UnloadableError(const std::string& model) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ServiceConfig config_;
  mutable absl::Mutex mu_;
  std::vector<Server> servers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ModelDeclaration> models_ ABSL_GUARDED_BY(mu_);
  // Models a fallback server could not load, with its reason; a new declaration clears one.
  std::map<std::string, std::string> unloadable_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Serialises fallback starts; held while a fallback starts, never with mu_ waiting on it.
  mutable absl::Mutex fallback_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::unique_ptr<FallbackServer>> fallbacks_ ABSL_GUARDED_BY(fallback_mu_);
  std::vector<std::string> failed_starts_ ABSL_GUARDED_BY(fallback_mu_);
  int fallback_failures_ ABSL_GUARDED_BY(mu_) = 0;  // calls to a fallback that failed
  std::function<void(std::string_view)> log_;       // where the fallback's log goes at the end
  const std::shared_ptr<client::RetryBudget> retry_budget_ =
      std::make_shared<client::RetryBudget>();
  std::thread prober_;
};

TritonService::Impl::~Impl() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (prober_.joinable()) prober_.join();
  bool failed = false;
  {
    absl::MutexLock lock(&mu_);
    failed = fallback_failures_ > 0;
  }
  if (failed) {  // as CMSSW at the end of the job: the log explains the failed calls
    const std::string message = absl::StrCat(
        "TritonService: calls to the fallback server failed during the job; its log:\n",
        FallbackLogs());
    if (log_) {
      log_(message);
    } else {
      std::clog << message << std::endl;
    }
  }
  absl::MutexLock lock(&fallback_mu_);
  fallbacks_.clear();  // each stops its server: SIGTERM, then SIGKILL
}

void TritonService::Impl::ProbeLoop() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), config_.probe_interval)) {
    mu_.Unlock();
    ProbeAll();
    mu_.Lock();
  }
}

void TritonService::Impl::Probe(const ServerConfig& server) {
  {
    // One probe per server at a time: a caller that finds one running takes its result (after
    // a burst of clients, one probe answers them all, and an older result never overwrites a
    // newer one).
    absl::MutexLock lock(&mu_);
    const int i = Find(server.name);  // an index: servers_ may grow (a fallback) meanwhile
    if (i < 0) return;
    if (servers_[i].probing) {
      const uint64_t seen = servers_[i].probes;
      auto done = [this, i, seen]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return servers_[i].probes != seen;
      };
      mu_.Await(absl::Condition(&done));
      return;
    }
    servers_[i].probing = true;
  }
  absl::StatusOr<internal::ProbeResult> result = internal::ProbeServer(server, kProbeDeadline);
  std::map<std::string, std::string> mismatched;
  if (result.ok()) mismatched = VersionMismatches(server, result->models);
  absl::MutexLock lock(&mu_);
  for (Server& s : servers_) {
    if (s.config.name != server.name) continue;
    s.probing = false;
    ++s.probes;
    s.healthy = result.ok() && result->ready;
    s.probe_error = result.ok() ? (result->ready ? "" : "not live") : result.status().ToString();
    if (!result.ok()) continue;
    s.unready = result->unready;
    if (s.healthy) {  // found well: back in routing
      s.out_of_routing = false;
      s.failures_in_a_row = 0;
    }
    for (const auto& [model, totals] : result->queue) {
      const internal::QueueTotals before = s.queue_totals[model];
      if (totals.count > before.count && totals.ns >= before.ns) {
        s.queue_ms[model] = static_cast<double>(totals.ns - before.ns) /
                            static_cast<double>(totals.count - before.count) / 1e6;
      }
      s.queue_totals[model] = totals;
    }
    s.models = std::set<std::string>(result->models.begin(), result->models.end());
    for (const auto& [model, difference] : mismatched) s.models.erase(model);
    s.mismatched = mismatched;
    const double ms = absl::ToDoubleMilliseconds(result->latency);
    s.latency_ms = s.latency_ms == 0 ? ms : 0.7 * s.latency_ms + 0.3 * ms;
  }
}

void TritonService::Impl::ProbeAll() {
  std::vector<ServerConfig> servers;
  {
    absl::MutexLock lock(&mu_);
    for (const Server& s : servers_) servers.push_back(s.config);
  }
  for (const ServerConfig& server : servers) Probe(server);
}

void TritonService::Impl::MarkFailed(const std::string& address) {
  NoteFallbackFailure(address);
  absl::MutexLock lock(&mu_);
  for (Server& s : servers_) {
    if (s.config.address != address) continue;
    s.healthy = false;
    ++s.failures;
    s.assigned = std::max(0, s.assigned - 1);
  }
}

client::ServerEndpoint TritonService::Impl::Choose(const std::string& model,
                                                  const std::string& excluded,
                                                  const std::string& client_preferred) {
  absl::MutexLock lock(&mu_);
  std::vector<internal::RouteCandidate> candidates = Candidates(model);
  auto declared = models_.find(model);
  std::string preferred = config_.preferred_server;
  if (declared != models_.end() && !declared->second.preferred_server.empty()) {
    preferred = declared->second.preferred_server;
  }
  if (!client_preferred.empty()) preferred = client_preferred;
  const int chosen = internal::ChooseServer(candidates, preferred, excluded);
  if (chosen < 0) return {};
  ++servers_[chosen].assigned;
  return {servers_[chosen].config.address, servers_[chosen].config.tls};
}

client::ServerEndpoint TritonService::Impl::EndpointAt(const std::string& address) const {
  absl::MutexLock lock(&mu_);
  for (const Server& s : servers_) {
    if (s.config.address == address) return {address, s.config.tls};
  }
  return {address, {}};
}

absl::StatusOr<client::ServerEndpoint> TritonService::Impl::Resolve(
    const std::string& model, const std::string& failed, const std::string& preferred) {
  if (!failed.empty()) {
    MarkFailed(failed);
    if (config_.retry_policy == RetryPolicy::kSameServer) return EndpointAt(failed);
    if (config_.retry_policy == RetryPolicy::kAnotherServer) {
      if (auto chosen = Choose(model, failed, preferred); !chosen.address.empty()) return chosen;
    }
    ProbeAll();  // the failed server may be back, others may have recovered
    if (config_.retry_policy == RetryPolicy::kAnotherServer) {
      if (auto chosen = Choose(model, failed, preferred); !chosen.address.empty()) return chosen;
    }
  } else {
    if (auto chosen = Choose(model, "", preferred); !chosen.address.empty()) return chosen;
    ProbeAll();
    if (auto chosen = Choose(model, "", preferred); !chosen.address.empty()) return chosen;
  }
  return FromFallback(model);
}

std::vector<internal::RouteCandidate> TritonService::Impl::Candidates(
    const std::string& model) const {
  const absl::Time now = absl::Now();
  std::vector<internal::RouteCandidate> candidates;
  for (const Server& s : servers_) {
    auto queue = s.queue_ms.find(model);
    candidates.push_back({s.config.name, s.config.address, s.healthy && !s.out_of_routing,
                          s.models.count(model) > 0, s.assigned, s.latency_ms,
                          s.recent_failures.Count(now), s.recent_overloads.Count(now),
                          queue == s.queue_ms.end() ? 0 : queue->second});
  }
  return candidates;
}

client::ServerEndpoint TritonService::Impl::MoveClient(const std::string& from, int to) {
  Server& target = servers_[to];
  if (target.config.address != from) {
    for (Server& s : servers_) {
      if (s.config.address != from) continue;
      s.assigned = std::max(0, s.assigned - 1);
      ++s.activity.failovers;
    }
    ++target.assigned;
  }
  return {target.config.address, target.config.tls};
}

absl::StatusOr<client::ServerEndpoint> TritonService::Impl::ResolveRetry(
    const client::RetryRequest& request) {
  if (request.failure == client::FailureKind::kOverloaded) return RerouteFromFullQueue(request);
  if (request.failure == client::FailureKind::kUnavailable) {
    // A server that did not answer is asked again at once (quick when it refuses connections;
    // a hung one, which timed out instead, is left to the prober).
    std::optional<ServerConfig> failed;
    {
      absl::MutexLock lock(&mu_);
      for (const Server& s : servers_) {
        if (s.config.address == request.failed_address) failed = s.config;
      }
    }
    if (failed.has_value()) Probe(*failed);
  }
  client::RetryTarget target = request.target;
  if (target == client::RetryTarget::kResolver) {
    switch (config_.retry_policy) {
      case RetryPolicy::kSameServer:
        target = client::RetryTarget::kSameServer;
        break;
      case RetryPolicy::kAnotherServer:
        target = client::RetryTarget::kAnotherServer;
        break;
      case RetryPolicy::kFallback:
        target = client::RetryTarget::kFallback;
        break;
    }
  }
  switch (target) {
    case client::RetryTarget::kSameServer:
      return EndpointAt(request.failed_address);
    case client::RetryTarget::kFallback:
      return RetryOnFallback(request);
    default:
      return RetryElsewhere(request);
  }
}

absl::StatusOr<client::ServerEndpoint> TritonService::Impl::RetryElsewhere(
    const client::RetryRequest& request) {
  for (int round = 0; round < 2; ++round) {
    if (round == 1) ProbeAll();  // others may have recovered, or started serving the model
    absl::MutexLock lock(&mu_);
    const int chosen =
        internal::ChooseRetryServer(Candidates(request.model_name), request.failed_address);
    if (chosen >= 0) return MoveClient(request.failed_address, chosen);
  }
  if (config_.fallback.enabled) return RetryOnFallback(request);
  absl::MutexLock lock(&mu_);
  return absl::UnavailableError(
      absl::StrCat("TritonService: no other healthy server serves model '", request.model_name,
                   "' and the fallback server is disabled (", WhyUnserved(request.model_name),
                   ")"));
}

absl::StatusOr<client::ServerEndpoint> TritonService::Impl::RerouteFromFullQueue(
    const client::RetryRequest& request) {
  absl::MutexLock lock(&mu_);
  const int chosen =
      internal::ChooseLessLoadedServer(Candidates(request.model_name), request.failed_address);
  if (chosen < 0) {
    return absl::UnavailableError(
        absl::StrCat("TritonService: no healthy server serves model '", request.model_name,
                     "' (", WhyUnserved(request.model_name), ")"));
  }
  return MoveClient(request.failed_address, chosen);
}

absl::StatusOr<client::ServerEndpoint> TritonService::Impl::RetryOnFallback(
    const client::RetryRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < static_cast<int>(servers_.size()); ++i) {
      const Server& s = servers_[i];
      if (s.fallback && s.healthy && !s.out_of_routing && s.models.count(request.model_name)) {
        return MoveClient(request.failed_address, i);
      }
    }
  }
  absl::StatusOr<client::ServerEndpoint> endpoint = FromFallback(request.model_name);
  if (endpoint.ok() && endpoint->address != request.failed_address) {
    absl::MutexLock lock(&mu_);
    for (Server& s : servers_) {
      if (s.config.address != request.failed_address) continue;
      s.assigned = std::max(0, s.assigned - 1);
      ++s.activity.failovers;
    }
  }
  return endpoint;
}

void TritonService::Impl::RecordAttempt(const client::AttemptOutcome& outcome) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  for (Server& s : servers_) {
    if (s.config.address != outcome.address) continue;
    ServerState::Activity& activity = s.activity;
    ++activity.attempts;
    activity.calls += outcome.requests;
    if (outcome.retry) ++activity.retries;
    if (outcome.status.ok()) {
      s.failures_in_a_row = 0;
      return;
    }
    if (!client::MayRetry(outcome.status)) return;  // the request's or the model's fault
    activity.time_lost += outcome.duration + outcome.backoff;
    const client::FailureKind kind = client::ClassifyFailure(outcome.status);
    if (kind == client::FailureKind::kOverloaded) {  // busy, not broken
      ++activity.overloads;
      s.recent_overloads.Add(now);
      return;
    }
    ++activity.failures;
    if (kind == client::FailureKind::kTimeout) ++activity.timeouts;
    ++s.failures;
    s.recent_failures.Add(now);
    if (++s.failures_in_a_row >= kOutOfRoutingFailures) s.out_of_routing = true;
    return;
  }
}

std::vector<ModelDeclaration> TritonService::Impl::UnservedModels() const {
  std::vector<ModelDeclaration> unserved;
  for (const auto& [name, model] : models_) {
    bool served = unloadable_.count(name) > 0;
    for (const Server& s : servers_) served |= s.healthy && s.models.count(name) > 0;
    if (!served) unserved.push_back(model);
  }
  return unserved;
}

absl::Status TritonService::Impl::UnloadableError(const std::string& model) const {
  return client::MakeClientError(
      absl::StatusCode::kFailedPrecondition, client::ErrorCategory::kModelError,
      absl::StrCat("TritonService: no healthy server serves model '", model,
                   "', and the fallback server cannot load it: ", unloadable_.at(model)));
}

absl::StatusOr<client::ServerEndpoint> TritonService::Impl::FromFallback(
    const std::string& model) {
  if (!config_.fallback.enabled) {
    absl::MutexLock lock(&mu_);
    if (absl::Status mismatch = VersionMismatchError(model); !mismatch.ok()) return mismatch;
    return absl::UnavailableError(absl::StrCat("TritonService: no healthy server serves model '",
                                               model, "' and the fallback server is disabled (",
                                               WhyUnserved(model), ")"));
  }
  absl::MutexLock fallback_lock(&fallback_mu_);
  // Another thread may have loaded it into the fallback meanwhile.
  if (auto chosen = Choose(model, ""); !chosen.address.empty()) return chosen;
  std::vector<ModelDeclaration> models;
  {
    absl::MutexLock lock(&mu_);
    if (unloadable_.count(model)) return UnloadableError(model);
    if (!models_.count(model)) {
      return absl::UnavailableError(absl::StrCat(
          "TritonService: no healthy server serves model '", model,
          "', and it was not declared with a local model directory for the fallback server"));
    }
    models = UnservedModels();
  }
  if (absl::Status started = LoadIntoFallback(std::move(models)); !started.ok()) {
    return absl::Status(started.code(),
                        absl::StrCat("TritonService: model '", model, "': ", started.message()));
  }
  absl::MutexLock lock(&mu_);
  if (unloadable_.count(model)) return UnloadableError(model);
  for (Server& s : servers_) {
    if (!s.fallback || !s.healthy || !s.models.count(model)) continue;
    ++s.assigned;
    return client::ServerEndpoint{s.config.address, s.config.tls};
  }
  return absl::UnavailableError(absl::StrCat("TritonService: model '", model,
                                             "' is not served by the fallback server started "
                                             "for it"));
}

absl::StatusOr<FallbackServer::LoadResults> TritonService::Impl::StartOrLoadFallback(
    const std::vector<ModelDeclaration>& models) {
  if (!fallbacks_.empty() && fallbacks_.back()->Running()) {
    FallbackServer& fallback = *fallbacks_.back();
    // Models it serves already stay as they are (a reload would disturb their requests).
    const std::vector<std::string> loaded = fallback.model_names();
    std::vector<ModelDeclaration> added = models;
    std::erase_if(added, [&loaded](const ModelDeclaration& model) {
      return std::find(loaded.begin(), loaded.end(), model.name) != loaded.end();
    });
    absl::StatusOr<FallbackServer::LoadResults> results = fallback.Load(added);
    if (!results.ok()) {
      return absl::Status(results.status().code(),
                          absl::StrCat("the fallback server at ", fallback.address(),
                                       " did not load the models: ", results.status().message(),
                                       "; its log:\n", fallback.Log()));
    }
    return results;
  }
  if (!fallbacks_.empty()) {  // it died: its entry leaves routing, its log stays for the report
    absl::MutexLock lock(&mu_);
    for (Server& s : servers_) {
      if (s.fallback && s.config.address == fallbacks_.back()->address()) {
        s.healthy = false;
        s.models.clear();
      }
    }
  }
  FallbackServer::Options options;
  options.config = config_.fallback;
  options.models = models;
  FallbackServer::LoadResults results;
  absl::StatusOr<std::unique_ptr<FallbackServer>> fallback =
      FallbackServer::Start(options, &results);
  if (!fallback.ok()) {
    failed_starts_.push_back(std::string(fallback.status().message()));
    return absl::UnavailableError(
        absl::StrCat("the fallback server did not start: ", fallback.status().message()));
  }
  Server server;
  server.config.name = absl::StrCat("fallback", fallbacks_.size());
  server.config.address = (*fallback)->address();
  server.fallback = true;
  server.healthy = true;
  if (!(*fallback)->uses_gpu()) server.advised_mode = config_.fallback.cpu_client_mode;
  if ((*fallback)->uses_gpu()) server.advised_shared_memory = client::SharedMemoryMode::kCuda;
  fallbacks_.push_back(*std::move(fallback));
  absl::MutexLock lock(&mu_);
  servers_.push_back(std::move(server));
  return results;
}

absl::Status TritonService::Impl::LoadIntoFallback(std::vector<ModelDeclaration> models) {
  SONIC_ASSIGN_OR_RETURN(FallbackServer::LoadResults results, StartOrLoadFallback(models));
  const std::string address = fallbacks_.back()->address();
  // The fallback keeps serving the models it loaded when others fail (as tritonserver with
  // --exit-on-error=false); the ones it could not load are reported by name with the reason.
  absl::MutexLock lock(&mu_);
  for (Server& s : servers_) {
    if (!s.fallback || s.config.address != address) continue;
    for (const auto& [name, reason] : results) {
      if (reason.empty()) s.models.insert(name);
    }
  }
  for (const auto& [name, reason] : results) {
    if (!reason.empty()) unloadable_[name] = reason;
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> TritonService::Impl::VersionMismatches(
    const ServerConfig& server, const std::vector<std::string>& served) {
  std::map<std::string, std::filesystem::path> local;  // served declared model -> its config
  {
    absl::MutexLock lock(&mu_);
    for (const Server& s : servers_) {
      if (s.config.name == server.name && s.fallback) return {};  // it serves the local files
    }
    for (const std::string& name : served) {
      auto declared = models_.find(name);
      if (declared != models_.end()) local[name] = declared->second.directory / "config.pbtxt";
    }
  }
  std::map<std::string, std::string> mismatches;
  for (const auto& [name, path] : local) {
    absl::StatusOr<inference::ModelConfig> mine = client::internal::ReadLocalConfig(path, name);
    if (!mine.ok()) continue;  // nothing to compare with (the fallback reports the file)
    absl::StatusOr<inference::ModelConfig> theirs =
        internal::FetchModelConfig(server, name, kProbeDeadline);
    if (!theirs.ok()) continue;  // the client's own check at Create() still applies
    std::string difference = client::internal::ModelVersionDifference(*mine, *theirs, "");
    if (!difference.empty()) {
      mismatches[name] = absl::StrCat("local config '", path.string(), "' vs server '", server.name,
                                      "' (", server.address, "): ", difference);
    }
  }
  return mismatches;
}

absl::Status TritonService::Impl::VersionMismatchError(const std::string& model) const {
  std::vector<std::string> servers;
  for (const Server& s : servers_) {
    auto it = s.mismatched.find(model);
    if (it != s.mismatched.end()) servers.push_back(it->second);
  }
  if (servers.empty()) return absl::OkStatus();
  return client::MakeClientError(
      absl::StatusCode::kFailedPrecondition, client::ErrorCategory::kModelError,
      absl::StrCat("TritonService: model version mismatch for model '", model,
                   "': no healthy server serves the version of the local config, and the "
                   "fallback server is disabled; ",
                   absl::StrJoin(servers, "; ")));
}

std::string TritonService::Impl::WhyUnserved(const std::string& model) const {
  std::vector<std::string> reasons;
  for (const Server& s : servers_) {
    std::string why;
    if (!s.probe_error.empty()) {
      why = absl::StrCat("not reachable: ", s.probe_error);
    } else if (!s.healthy) {
      why = "a call to it failed; not probed since";
    } else if (s.out_of_routing) {
      why = absl::StrCat("out of routing after ", s.failures_in_a_row, " failures in a row");
    } else if (auto it = s.unready.find(model); it != s.unready.end()) {
      why = absl::StrCat("has it ", it->second);
    } else if (!s.models.count(model)) {
      why = absl::StrCat("does not have it (", s.models.size(), " ready models)");
    } else {
      why = "serves it";  // a retry excluded it
    }
    reasons.push_back(absl::StrCat("server '", s.config.name, "' (", s.config.address, "): ", why));
  }
  return reasons.empty() ? "no servers configured" : absl::StrJoin(reasons, "; ");
}

client::ServerEndpoint TritonService::Impl::Advise(client::ServerEndpoint endpoint) const {
  absl::MutexLock lock(&mu_);
  for (const Server& s : servers_) {
    if (!s.fallback || s.config.address != endpoint.address) continue;
    endpoint.mode = s.advised_mode;
    endpoint.shared_memory = s.advised_shared_memory;
  }
  return endpoint;
}

void TritonService::Impl::NoteFallbackFailure(const std::string& address) {
  absl::MutexLock lock(&mu_);
  for (const Server& s : servers_) {
    if (s.fallback && s.config.address == address) ++fallback_failures_;
  }
}

absl::Status TritonService::Impl::DeclareModel(const ModelDeclaration& model) {
  if (model.name.empty()) return absl::InvalidArgumentError("DeclareModel: empty model name");
  absl::MutexLock lock(&mu_);
  models_[model.name] = model;
  unloadable_.erase(model.name);
  return absl::OkStatus();
}

std::vector<ServerState> TritonService::Impl::Servers() const {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  std::vector<ServerState> states;
  for (const Server& s : servers_) {
    ServerState state;
    state.name = s.config.name;
    state.address = s.config.address;
    state.healthy = s.healthy && !s.out_of_routing;
    state.fallback = s.fallback;
    state.models = std::vector<std::string>(s.models.begin(), s.models.end());
    state.assigned_clients = s.assigned;
    state.failures = s.failures;
    state.latency_ms = s.latency_ms;
    state.out_of_routing = s.out_of_routing;
    state.recent_failures = s.recent_failures.Count(now);
    state.activity = s.activity;
    states.push_back(std::move(state));
  }
  return states;
}

std::string TritonService::Impl::FallbackLogs() const {
  absl::MutexLock lock(&fallback_mu_);
  std::string logs;
  for (const auto& fallback : fallbacks_) {
    absl::StrAppend(&logs, "=== fallback server ", fallback->address(), " (models ",
                    absl::StrJoin(fallback->model_names(), ", "), ")",
                    fallback->Running() ? "" : " [exited]",
                    config_.fallback.debug ? " in " + fallback->directory().string() : "", " ===\n",
                    fallback->Log());
  }
  for (const std::string& failure : failed_starts_) {
    absl::StrAppend(&logs, "=== fallback server that failed to start ===\n", failure, "\n");
  }
  return logs;
}

std::vector<int> TritonService::Impl::FallbackPids() const {
  absl::MutexLock lock(&fallback_mu_);
  std::vector<int> pids;
  for (const auto& fallback : fallbacks_) {
    if (fallback->pid() > 0 && fallback->Running()) pids.push_back(fallback->pid());
  }
  return pids;
}

absl::StatusOr<std::unique_ptr<TritonService>> TritonService::Create(const Options& options) {
  ServiceConfig config = options.config;
  if (options.use_environment) {
    SONIC_ASSIGN_OR_RETURN(std::vector<ServerConfig> env, ServersFromEnvironment());
    config.servers.insert(config.servers.end(), env.begin(), env.end());
  }
  std::set<std::string> names;
  for (const ServerConfig& server : config.servers) {
    if (server.name.empty() || server.address.empty()) {
      return absl::InvalidArgumentError("TritonService: a server needs a name and an address");
    }
    if (!names.insert(server.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("TritonService: duplicate server name '", server.name, "'"));
    }
  }
  auto impl = std::make_unique<Impl>(std::move(config));
  impl->SetLog(options.log);
  impl->ProbeAll();
  impl->StartProber();
  return std::unique_ptr<TritonService>(new TritonService(std::move(impl)));
}

TritonService::TritonService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TritonService::~TritonService() = default;

absl::Status TritonService::DeclareModel(const ModelDeclaration& model) {
  return impl_->DeclareModel(model);
}

absl::StatusOr<client::ServerEndpoint> TritonService::Resolve(
    const std::string& model_name, const std::string& failed_address,
    const std::string& preferred_server) {
  absl::StatusOr<client::ServerEndpoint> endpoint =
      impl_->Resolve(model_name, failed_address, preferred_server);
  if (!endpoint.ok()) return endpoint;
  return impl_->Advise(*std::move(endpoint));
}

client::ServerResolver TritonService::Resolver(const std::string& preferred_server) {
  return [this, preferred_server](const std::string& model, const std::string& failed) {
    return Resolve(model, failed, preferred_server);
  };
}

absl::StatusOr<client::ServerEndpoint> TritonService::ResolveRetry(
    const client::RetryRequest& request) {
  absl::StatusOr<client::ServerEndpoint> endpoint = impl_->ResolveRetry(request);
  if (!endpoint.ok()) return endpoint;
  return impl_->Advise(*std::move(endpoint));
}

client::RetryResolver TritonService::RetryRouter() {
  return [this](const client::RetryRequest& request) { return ResolveRetry(request); };
}

void TritonService::RecordAttempt(const client::AttemptOutcome& outcome) {
  impl_->RecordAttempt(outcome);
  if (!outcome.status.ok()) impl_->NoteFallbackFailure(outcome.address);
}

client::AttemptObserver TritonService::AttemptRecorder() {
  return [this](const client::AttemptOutcome& outcome) { RecordAttempt(outcome); };
}

std::shared_ptr<client::RetryBudget> TritonService::retry_budget() const {
  return impl_->retry_budget();
}

client::TritonClient::Options TritonService::ClientOptions(const std::string& model_name,
                                                           const std::string& preferred_server) {
  client::TritonClient::Options options;
  options.model_name = model_name;
  options.resolver = Resolver(preferred_server);
  options.retry_resolver = RetryRouter();
  options.attempt_observer = AttemptRecorder();
  options.retry_budget = retry_budget();
  options.local_config_path = impl_->LocalConfigPath(model_name);
  return options;
}

void TritonService::ProbeAll() { impl_->ProbeAll(); }
std::vector<ServerState> TritonService::Servers() const { return impl_->Servers(); }
std::string TritonService::FallbackLogs() const { return impl_->FallbackLogs(); }
std::vector<int> TritonService::FallbackPids() const { return impl_->FallbackPids(); }

}  // namespace sonic::service
