// SonicClient: the acquire/produce split of an event-processing module, as in CMSSW's SonicCore.
//
// A module fills a client's inputs in acquire(), calls dispatch(done) and returns; `done` runs
// when the result is in (the module's "done waiting" hook), and produce() then reads the outputs.
// How the caller's thread spends the wait is the mode, chosen at construction:
//   kSync         dispatch() does the whole evaluation on the calling thread and calls `done`
//                 on that thread before it returns. For debugging and for callers with nothing
//                 else to do.
//   kAsync        dispatch() starts non-blocking work and returns at once; `done` runs on a
//                 thread of the transport (gRPC's callback threads) or, after a retry, on one
//                 of the few threads the client library shares among all clients for retries.
//                 No thread is created per request or per client. A retry (prepareRetry, which
//                 may ask a resolver that probes servers or starts a fallback server, then the
//                 next attempt) never runs on a transport thread, so a slow retry of one client
//                 never delays the completions of others. Retries waiting for those threads are
//                 bounded (4096 in the process); beyond that an attempt's error ends the
//                 dispatch, noted "the retry queue is full".
//   kPseudoAsync  dispatch() hands a blocking evaluation to a worker thread the client owns and
//                 returns at once; `done` runs on that worker.
// Every evaluation ends in exactly one finish(success, error). A failure whose error may be cured
// by trying again (see client_error.h: server unavailable, timeout) is evaluated again while
// retryDelay() allows it (by default: while the number of attempts is below allowed_tries, the
// total number of attempts, at least 1; TritonClient follows its retry chain and backs off from
// full queues, retry_policy.h); then `done` receives the last error, annotated with the number
// of attempts. `done` is called exactly once per dispatch().
//
// Thread-safety: thread-compatible, like a CMSSW stream module's client: one dispatch at a time,
// and between dispatch() and `done` the caller must not use the client (except to destroy it).
// `done` must not throw and should return quickly (in kAsync it runs on a transport thread); it
// may destroy the client. Destroying a client with a dispatch in flight cancels the work and
// waits until `done` has been called (with CANCELLED); `done` must then not use the client.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sonic::client {

enum class SonicMode { kSync, kAsync, kPseudoAsync };

// "Sync", "Async", "PseudoAsync".
std::string_view SonicModeName(SonicMode mode);

// Called once per dispatch with OK or the evaluation's (last) error.
using DoneCallback = std::function<void(absl::Status)>;

class SonicClient {
 public:
  virtual ~SonicClient();
  SonicClient(const SonicClient&) = delete;
  SonicClient& operator=(const SonicClient&) = delete;

  SonicMode mode() const { return mode_; }
  int allowedTries() const { return allowed_tries_; }
  const std::string& debugName() const { return debug_name_; }
  // Attempts made by the last (or current) dispatch.
  int tries() const { return tries_; }

  // Starts an evaluation; see the mode table above for which thread runs what. A dispatch while
  // another is in flight is refused: `done` gets FAILED_PRECONDITION at once, and the running one
  // is unaffected. `done` may run before dispatch() returns in every mode when the evaluation
  // fails (or finishes) without waiting for anything, e.g. a misuse error or an empty batch.
  void dispatch(DoneCallback done);

  // Clears per-event state (inputs, outputs); the base has none. Not during a dispatch.
  virtual void reset() {}

 protected:
  // `allowed_tries` below 1 counts as 1. `debug_name` prefixes retry annotations.
  SonicClient(SonicMode mode, int allowed_tries, std::string debug_name);

  // One attempt. Must end, on some thread, in exactly one call to finish(). In kAsync it must not
  // block; in kSync and kPseudoAsync it may block (and usually calls finish before returning).
  virtual void evaluate() = 0;

  // Called before a retry, with the error of the failed attempt, on the thread that runs the
  // next attempt (in kAsync a retry thread, never a transport thread); a subclass may, e.g.,
  // switch to another server, and may block to do so. Not called once shutdown() has begun.
  // The default does nothing.
  virtual void prepareRetry(const absl::Status& error) {}

  // Whether a failed attempt whose `error` may be cured by trying again (MayRetry) is tried
  // again, and after how long; nullopt ends the dispatch with `error`. Called on the thread that
  // ended the attempt (in kAsync a transport thread), so it must not block; the wait itself
  // holds no transport thread. The default: at once while tries() < allowedTries().
  virtual std::optional<absl::Duration> retryDelay(const absl::Status& error);

  // Called on the evaluating thread when the dispatch is over (no more retries), with the status
  // `done` is about to receive; for bookkeeping. The default does nothing.
  virtual void completed(const absl::Status& status) {}

  // Ends an attempt: retries or calls `done`. After it returns the caller must not touch the
  // client (the callback may have destroyed it). `error` is ignored when `success`.
  void finish(bool success, absl::Status error = absl::OkStatus());

  // For subclass destructors: marks the client as shutting down (no more retries), lets the
  // subclass cancel its work with `cancel`, and waits until the dispatch in flight (if any) has
  // called `done` and `done` has returned (unless the client is destroyed from inside `done`).
  // Must be called by every subclass destructor that can have work in flight.
  void shutdown(const std::function<void()>& cancel);

  // Whether shutdown() has begun (evaluate() should then fail with CANCELLED at once).
  bool shuttingDown() const;

 private:
  class Worker;

  void startAttempt();
  // prepareRetry (unless shutting down), then the next attempt.
  void retry(const absl::Status& error);

  const SonicMode mode_;
  const int allowed_tries_;
  const std::string debug_name_;
  int tries_ = 0;
  DoneCallback done_;

  // The dispatch's state, shared with finish() while it runs `done`: the callback may destroy
  // the client, and finish() still records that `done` returned.
  struct DispatchState;
  const std::shared_ptr<DispatchState> dispatch_state_;

  std::unique_ptr<Worker> worker_;  // kPseudoAsync only
};

}  // namespace sonic::client
