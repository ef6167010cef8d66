#include "sonic/framework/event_processor.h"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/tsan_handoff.h"
#include "sonic/common/status.h"

namespace sonic::framework {
namespace {

// One module's times in one stream; the stream runs one event at a time, so plain fields.
struct StreamTiming {
  uint64_t events = 0;
  absl::Duration acquire, wait, produce;
};

struct Stream {
  int index = 0;
  std::vector<std::unique_ptr<Module>> modules;
  std::vector<StreamTiming> timing;
  std::unique_ptr<Event> event;
  absl::Duration source;
  // Of the module being waited for: when its acquire returned and when doneWaiting came, and
  // how many of the two are still to happen (the second one schedules produce).
  absl::Time acquire_end, done_time;
  absl::Status acquired;
  std::atomic<int> pending{0};
};

class Processor {
 public:
  explicit Processor(const ProcessorOptions& options)
      : options_(options), arena_(options.threads, /*reserved_for_masters=*/0) {}

  absl::Status CreateStreams() {
    streams_.resize(static_cast<size_t>(options_.streams));
    for (int s = 0; s < options_.streams; ++s) {
      auto& stream = streams_[static_cast<size_t>(s)];
      stream = std::make_unique<Stream>();
      stream->index = s;
      stream->timing.resize(options_.modules.size());
      for (const ModuleDescription& description : options_.modules) {
        absl::StatusOr<std::unique_ptr<Module>> module = description.factory(s);
        if (!module.ok()) return Annotate(module.status(), "module '" + description.label + "'");
        stream->modules.push_back(*std::move(module));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ProcessorReport> Run() {
    const absl::Time start = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      streams_running_ = options_.streams;
    }
    for (auto& stream : streams_) {
      Stream* s = stream.get();
      Enqueue([this, s] { StartEvent(*s); });
    }
    absl::Status error;
    {
      absl::MutexLock lock(&mu_);
      auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return streams_running_ == 0; };
      while (!mu_.AwaitWithTimeout(absl::Condition(&finished), options_.progress_interval)) {
        if (options_.on_progress) {
          Progress progress{events_done_.load(), options_.events, absl::Now() - start};
          mu_.Unlock();
          options_.on_progress(progress);
          mu_.Lock();
        }
      }
      error = error_;
    }
    const absl::Duration wall = absl::Now() - start;
    // The last tasks may still be returning; nothing of the processor may go before they have.
    {
      std::unique_lock lock(tasks_mu_);
      tasks_done_.wait(lock, [this] { return tasks_ == 0; });
    }
    if (!error.ok()) return error;
    return Report(wall);
  }

 private:
  // Runs `task` on the arena; counted so that Run returns only after every task has ended and
  // every call of this has left the arena: a module's thread (doneWaiting) may still be inside
  // task_arena::enqueue when the task it enqueued has already run.
  void Enqueue(std::function<void()> task) {
    {
      std::lock_guard lock(tasks_mu_);
      tasks_ += 2;  // the task, and this call
    }
    // Freed by the task itself before it counts as ended: oneTBB destroys the functor (const
    // there, so a captured std::function could not be released) only after it returns, when
    // Run may already have returned and the process exited, leaving the task's memory behind.
    auto* owned = new std::function<void()>(std::move(task));
    // oneTBB's hand-off to the worker is unseen by TSan: told here, after everything the task
    // reads is written.
    HandOff(&arena_);
    arena_.enqueue([this, owned] {
      TakeOver(&arena_);
      (*owned)();
      delete owned;
      TaskEnded();
    });
    TaskEnded();
  }

  void TaskEnded() {
    // Notified under the lock: Run, woken, cannot take the lock (and destroy the processor)
    // before this thread has let go of it.
    std::lock_guard lock(tasks_mu_);
    if (--tasks_ == 0) tasks_done_.notify_all();
  }

  void StartEvent(Stream& stream) {
    const uint64_t n = next_event_.fetch_add(1);
    if (n >= options_.events || stopped_.load()) {
      FinishStream();
      return;
    }
    stream.event = std::make_unique<Event>(options_.first_event + n);
    const absl::Time begin = absl::Now();
    absl::Status status = options_.source(*stream.event);
    stream.source += absl::Now() - begin;
    if (!status.ok()) {
      Fail(stream, Annotate(status, absl::StrCat("event ", stream.event->id(), ", source")));
      return;
    }
    RunModule(stream, 0);
  }

  void RunModule(Stream& stream, size_t index) {
    if (stopped_.load()) {
      FinishStream();
      return;
    }
    if (index == stream.modules.size()) {
      if (options_.on_event_done) options_.on_event_done(*stream.event);
      stream.event.reset();
      events_done_.fetch_add(1);
      StartEvent(stream);
      return;
    }
    Module& module = *stream.modules[index];
    stream.pending.store(2);
    BeginWait();
    const absl::Time begin = absl::Now();
    module.acquire(*stream.event, WaitingTaskHolder([this, &stream, index](absl::Status status) {
                     stream.done_time = absl::Now();
                     stream.acquired = std::move(status);
                     EndWait();
                     Arrive(stream, index);
                   }));
    stream.acquire_end = absl::Now();
    stream.timing[index].acquire += stream.acquire_end - begin;
    Arrive(stream, index);
  }

  // Called once when acquire has returned and once at doneWaiting; the second schedules produce.
  void Arrive(Stream& stream, size_t index) {
    if (stream.pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    Enqueue([this, &stream, index] { Produce(stream, index); });
  }

  void Produce(Stream& stream, size_t index) {
    StreamTiming& timing = stream.timing[index];
    timing.wait += std::max(absl::ZeroDuration(), stream.done_time - stream.acquire_end);
    const std::string& label = stream.modules[index]->label();
    if (!stream.acquired.ok()) {
      Fail(stream, Annotate(stream.acquired,
                            absl::StrCat("event ", stream.event->id(), ", module '", label, "'")));
      return;
    }
    const absl::Time begin = absl::Now();
    absl::Status status = stream.modules[index]->produce(*stream.event);
    timing.produce += absl::Now() - begin;
    if (!status.ok()) {
      Fail(stream,
           Annotate(status, absl::StrCat("event ", stream.event->id(), ", module '", label, "'")));
      return;
    }
    ++timing.events;
    RunModule(stream, index + 1);
  }

  void BeginWait() {
    const int now = waiting_.fetch_add(1) + 1;
    int seen = max_waiting_.load();
    while (now > seen && !max_waiting_.compare_exchange_weak(seen, now)) {
    }
  }
  void EndWait() { waiting_.fetch_sub(1); }

  void Fail(Stream& stream, absl::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (error_.ok()) error_ = std::move(status);
    }
    stopped_.store(true);
    stream.event.reset();
    FinishStream();
  }

  void FinishStream() {
    absl::MutexLock lock(&mu_);
    --streams_running_;
  }

  ProcessorReport Report(absl::Duration wall) const {
    ProcessorReport report;
    report.events = events_done_.load();
    report.threads = options_.threads;
    report.streams = options_.streams;
    report.wall = wall;
    report.max_concurrent_waits = max_waiting_.load();
    for (size_t m = 0; m < options_.modules.size(); ++m) {
      ModuleTiming timing;
      timing.label = options_.modules[m].label;
      timing.category = options_.modules[m].category;
      for (const auto& stream : streams_) {
        timing.events += stream->timing[m].events;
        timing.acquire += stream->timing[m].acquire;
        timing.wait += stream->timing[m].wait;
        timing.produce += stream->timing[m].produce;
      }
      report.modules.push_back(std::move(timing));
    }
    for (const auto& stream : streams_) report.source += stream->source;
    return report;
  }

  const ProcessorOptions& options_;
  oneapi::tbb::task_arena arena_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::atomic<uint64_t> next_event_{0};
  std::atomic<uint64_t> events_done_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<int> waiting_{0};
  std::atomic<int> max_waiting_{0};
  std::mutex tasks_mu_;  // a std::mutex: safe to destroy as soon as the last task unlocks it
  std::condition_variable tasks_done_;
  int tasks_ = 0;
  absl::Mutex mu_;
  int streams_running_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

absl::Status CheckOptions(const ProcessorOptions& options) {
  if (options.threads < 1 || options.streams < 1) {
    return absl::InvalidArgumentError(absl::StrCat("threads (", options.threads,
                                                   ") and concurrent events (", options.streams,
                                                   ") must be at least 1"));
  }
  if (!options.source) return absl::InvalidArgumentError("the job has no source");
  for (const ModuleDescription& module : options.modules) {
    if (module.label.empty() || !module.factory) {
      return absl::InvalidArgumentError("every module needs a label and a factory");
    }
  }
  if (options.progress_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the progress interval must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcessorReport> RunEvents(const ProcessorOptions& options) {
  SONIC_RETURN_IF_ERROR(CheckOptions(options));
  // The arena's threads are workers of oneTBB's global pool, which by default has one fewer than
  // the cores; a job may ask for more threads than cores (they then share them).
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<size_t>(options.threads) + 1);
  Processor processor(options);
  SONIC_RETURN_IF_ERROR(processor.CreateStreams());
  return processor.Run();
}

}  // namespace sonic::framework
