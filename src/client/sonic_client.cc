#include "sonic/client/sonic_client.h"

#include <deque>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client_executor.h"
#include "sonic/client/client_error.h"

namespace sonic::client {

struct SonicClient::DispatchState {
  absl::Mutex mu;
  bool in_flight ABSL_GUARDED_BY(mu) = false;
  bool shutting_down ABSL_GUARDED_BY(mu) = false;
  int callbacks_running ABSL_GUARDED_BY(mu) = 0;  // `done` callbacks not yet returned
};

namespace {

// The client whose `done` this thread is running (innermost), and how many of that client's
// callbacks are on this thread's stack: a client destroyed from inside its own callback does
// not wait for those to return.
struct RunningCallbacks {
  const void* client = nullptr;
  int depth = 0;
};
thread_local RunningCallbacks running_callbacks;

}  // namespace

std::string_view SonicModeName(SonicMode mode) {
  switch (mode) {
    case SonicMode::kSync:
      return "Sync";
    case SonicMode::kAsync:
      return "Async";
    case SonicMode::kPseudoAsync:
      return "PseudoAsync";
  }
  return "unknown";
}

// A single thread running posted tasks in order. Its state is shared with the thread, so the
// Worker may be destroyed from one of its own tasks (the thread is then detached and exits after
// that task instead of being joined).
class SonicClient::Worker {
 public:
  Worker() : state_(std::make_shared<State>()) {
    thread_ = std::thread([state = state_] { Run(*state); });
  }
  ~Worker() {
    {
      absl::MutexLock lock(&state_->mu);
      state_->stop = true;
    }
    if (std::this_thread::get_id() == thread_.get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  void Post(std::function<void()> task) {
    absl::MutexLock lock(&state_->mu);
    state_->tasks.push_back(std::move(task));
  }

 private:
  struct State {
    absl::Mutex mu;
    std::deque<std::function<void()>> tasks ABSL_GUARDED_BY(mu);
    bool stop ABSL_GUARDED_BY(mu) = false;
  };
  static void Run(State& state) {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&state.mu);
        state.mu.Await(absl::Condition(
            +[](State* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
              return s->stop || !s->tasks.empty();
            },
            &state));
        if (state.tasks.empty()) return;  // stopping, nothing left
        task = std::move(state.tasks.front());
        state.tasks.pop_front();
      }
      task();
    }
  }

  std::shared_ptr<State> state_;
  std::thread thread_;
};

SonicClient::SonicClient(SonicMode mode, int allowed_tries, std::string debug_name)
    : mode_(mode), allowed_tries_(allowed_tries < 1 ? 1 : allowed_tries),
      debug_name_(std::move(debug_name)), dispatch_state_(std::make_shared<DispatchState>()) {
  if (mode_ == SonicMode::kPseudoAsync) worker_ = std::make_unique<Worker>();
}

SonicClient::~SonicClient() {
  // Subclasses have already waited (shutdown()); this covers clients with nothing in flight.
  shutdown([] {});
}

void SonicClient::dispatch(DoneCallback done) {
  bool busy = false;
  bool refused = false;
  {
    DispatchState& state = *dispatch_state_;
    absl::MutexLock lock(&state.mu);
    busy = state.in_flight;
    refused = state.in_flight || state.shutting_down;
    if (!refused) state.in_flight = true;
  }
  if (refused) {
    done(MakeClientError(absl::StatusCode::kFailedPrecondition, ErrorCategory::kBadInput,
                         absl::StrCat(debug_name_, ": dispatch() called while ",
                                      busy ? "a dispatch is still in flight"
                                           : "the client is being destroyed")));
    return;
  }
  done_ = std::move(done);
  tries_ = 0;
  if (mode_ == SonicMode::kPseudoAsync) {
    worker_->Post([this] {
      startAttempt();
      evaluate();
    });
    return;
  }
  startAttempt();
  evaluate();
}

void SonicClient::startAttempt() { ++tries_; }

void SonicClient::finish(bool success, absl::Status error) {
  if (success) error = absl::OkStatus();
  if (!success && error.ok()) {
    error = absl::UnknownError(absl::StrCat(debug_name_, ": evaluation failed without a reason"));
  }
  const char* note = "";
  std::optional<absl::Duration> delay;
  if (!success && MayRetry(error) && !shuttingDown()) delay = retryDelay(error);
  if (delay.has_value()) {
    if (mode_ != SonicMode::kAsync) {
      if (*delay > absl::ZeroDuration()) absl::SleepFor(*delay);
      retry(error);
      return;
    }
    // Never on the transport thread this runs on: prepareRetry may block. A backoff waits in
    // the executor's queue, holding no thread.
    if (internal::ClientExecutor::Retries().PostAfter(*delay, [this, error] { retry(error); })) {
      return;
    }
    note = "; no retry: the retry queue is full";
  }
  if (!success && (allowed_tries_ > 1 || tries_ > 1)) {
    absl::Status annotated(error.code(),
                           absl::StrCat(std::string(error.message()), " (after ", tries_,
                                        tries_ == 1 ? " attempt" : " attempts", note, ")"));
    error.ForEachPayload(
        [&annotated](auto url, const absl::Cord& payload) { annotated.SetPayload(url, payload); });
    error = std::move(annotated);
  }
  completed(error);
  DoneCallback done = std::move(done_);
  done_ = nullptr;
  // `done` may destroy the client: from here on only locals are touched.
  const std::shared_ptr<DispatchState> state = dispatch_state_;
  {
    absl::MutexLock lock(&state->mu);
    state->in_flight = false;  // `done` may dispatch again
    ++state->callbacks_running;
  }
  const RunningCallbacks outer = running_callbacks;
  running_callbacks = {state.get(), outer.client == state.get() ? outer.depth + 1 : 1};
  done(std::move(error));
  running_callbacks = outer;
  absl::MutexLock lock(&state->mu);
  --state->callbacks_running;
}

std::optional<absl::Duration> SonicClient::retryDelay(const absl::Status& error) {
  if (tries_ < allowed_tries_) return absl::ZeroDuration();
  return std::nullopt;
}

void SonicClient::retry(const absl::Status& error) {
  if (!shuttingDown()) prepareRetry(error);
  startAttempt();
  evaluate();  // In kAsync this only starts non-blocking work.
}

void SonicClient::shutdown(const std::function<void()>& cancel) {
  DispatchState& state = *dispatch_state_;
  {
    absl::MutexLock lock(&state.mu);
    state.shutting_down = true;
  }
  cancel();
  // Inside its own `done`, the client waits for the other callbacks only.
  struct Wait {
    DispatchState* state;
    int own;
  } wait{&state, running_callbacks.client == &state ? running_callbacks.depth : 0};
  absl::MutexLock lock(&state.mu);
  state.mu.Await(absl::Condition(
      +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !w->state->in_flight && w->state->callbacks_running <= w->own;
      },
      &wait));
}

bool SonicClient::shuttingDown() const {
  absl::MutexLock lock(&dispatch_state_->mu);
  return dispatch_state_->shutting_down;
}

}  // namespace sonic::client
