// The event loop of a job, on oneTBB: `streams` events in flight at once (each stream with its
// own instance of every module, as CMSSW's streams), run by `threads` TBB worker threads. Each
// event gets a number, is filled by the source, then goes through the modules in order; a
// module's acquire and produce are separate tasks, and while a module waits for its external
// work (module.h) the thread takes any other ready task. Per module, the report has the time
// spent in acquire, waiting, and in produce.
//
//   ProcessorOptions options;
//   options.events = 1000; options.threads = 4; options.streams = 8;
//   options.source = [](Event& e) { e.put("gen", Generate(e.id())); return absl::OkStatus(); };
//   options.modules.push_back({"tagger", "ParticleNet", [](int stream) { return MakeTagger(); }});
//   SONIC_ASSIGN_OR_RETURN(ProcessorReport report, RunEvents(options));
//
// Thread-safety: RunEvents may be called from any thread, one job at a time per process (it sets
// oneTBB's process-wide thread limit for its duration). The callbacks in ProcessorOptions run on
// TBB threads, several at once (source, on_event_done) or on the caller's thread (on_progress).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/framework/event.h"
#include "sonic/framework/module.h"

namespace sonic::framework {

// Makes the instance of a module for stream `stream` (0 .. streams-1). Called on the caller's
// thread of RunEvents before any event starts.
using ModuleFactory = std::function<absl::StatusOr<std::unique_ptr<Module>>(int stream)>;

struct ModuleDescription {
  std::string label;
  // What the module counts as in reports (e.g. "ParticleNet", "other").
  std::string category;
  ModuleFactory factory;
};

struct Progress {
  uint64_t events_done = 0;
  uint64_t events_total = 0;
  absl::Duration elapsed;
};

struct ProcessorOptions {
  uint64_t events = 0;
  // Event numbers are first_event .. first_event + events - 1.
  uint64_t first_event = 0;
  int threads = 1;
  int streams = 1;
  // Fills a new event (e.g. generates it from its number). Must be thread-safe.
  std::function<absl::Status(Event&)> source;
  std::vector<ModuleDescription> modules;
  // Called with every event that went through all modules, before it is destroyed. Optional;
  // must be thread-safe.
  std::function<void(Event&)> on_event_done;
  // Called on the caller's thread about every `progress_interval` while the job runs. Optional.
  std::function<void(const Progress&)> on_progress;
  absl::Duration progress_interval = absl::Seconds(1);
};

// Times summed over every event and stream.
struct ModuleTiming {
  std::string label;
  std::string category;
  uint64_t events = 0;
  absl::Duration acquire;  // in acquire, on a framework thread (includes a blocking request)
  absl::Duration wait;     // from acquire's return until doneWaiting (the thread was free)
  absl::Duration produce;  // in produce, on a framework thread
};

struct ProcessorReport {
  uint64_t events = 0;  // events that went through every module
  int threads = 0;
  int streams = 0;
  absl::Duration wall;
  absl::Duration source;  // in the source, summed over events
  std::vector<ModuleTiming> modules;  // in module order
  // The most module waits (from acquire's start to doneWaiting) in flight at once: above
  // `threads` only when threads really were released while requests were in flight.
  int max_concurrent_waits = 0;
};

// Runs the job. INVALID_ARGUMENT for threads or streams below 1, no source, or a module without
// label or factory; a factory's error (with the module's label); otherwise the first error of the
// source or a module, prefixed with the event number and the module's label. On error, events
// already in flight finish and no new event starts.
absl::StatusOr<ProcessorReport> RunEvents(const ProcessorOptions& options);

}  // namespace sonic::framework
