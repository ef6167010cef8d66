// A module of an event-processing job, with the ExternalWork split of CMSSW's
// edm::stream::EDProducer<edm::ExternalWork>:
//
//   acquire(event, holder)  runs on a framework thread, starts work that happens elsewhere (a
//                           request to an inference server) and returns; when that work is over,
//                           whoever finishes it calls holder.doneWaiting(status).
//   produce(event)          is then scheduled on a framework thread and puts the results into
//                           the event.
//
// Between acquire returning and doneWaiting, the thread that ran acquire works on other events:
// that is how one job keeps its cores busy while its requests are in flight. A module without
// external work leaves acquire alone (it calls doneWaiting at once) and does everything in
// produce. A framework stream owns one instance of each module and runs one event through it at
// a time, so a module needs no locking for its own state; produce never starts before acquire
// has returned.
//
// Errors: acquire reports through doneWaiting, produce through its return value; either stops
// the job (events in flight finish, no new event starts) and the job fails with that error.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "sonic/framework/event.h"

namespace sonic::framework {

// The handle a module's acquire passes to whoever finishes its external work. Copyable (copies
// share one state) and callable from any thread; only the first doneWaiting counts, later ones
// are ignored. A holder destroyed without doneWaiting ever being called fails the event with
// INTERNAL, so a lost callback never hangs the job.
class WaitingTaskHolder {
 public:
  explicit WaitingTaskHolder(std::function<void(absl::Status)> resume);

  // Ends the wait: schedules produce (OK) or fails the event (an error). Must not be called
  // while holding a lock that produce needs. Returns quickly: produce runs elsewhere.
  void doneWaiting(absl::Status status) const;

 private:
  class State;
  std::shared_ptr<State> state_;
};

class Module {
 public:
  explicit Module(std::string label) : label_(std::move(label)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& label() const { return label_; }

  // Starts the module's external work for `event`; see the file comment. The default has none.
  virtual void acquire(const Event& event, WaitingTaskHolder holder) {
    holder.doneWaiting(absl::OkStatus());
  }

  // Puts the module's products into `event`.
  virtual absl::Status produce(Event& event) = 0;

 private:
  const std::string label_;
};

}  // namespace sonic::framework
