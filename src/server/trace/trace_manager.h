// The server's trace settings, global and per model, and the sampling of requests to trace, with
// Triton's semantics (docs/protocol/extension_trace.md):
//  - a model without settings of its own uses the global setting, and shares its rate counter,
//    its remaining trace_count and its buffered traces with every other such model;
//  - a model's own setting names some fields and takes the others from the global setting
//    (re-derived, with fresh counters, whenever the global setting changes); clearing all its
//    fields (empty value lists) removes it;
//  - clearing a global field restores its startup value (the command line's);
//  - every rate-th request of a setting is traced while its trace_count is not 0 (-1 =
//    unlimited; each trace taken counts it down);
//  - a setting's finished traces are buffered and written: every log_frequency traces to
//    trace_file.<n>; when its trace_count reaches 0 and its last trace is in, to trace_file.<n>;
//    and otherwise when the setting is replaced or the manager destroyed, to trace_file.<n> with
//    a log_frequency, else appended to trace_file (trace_file_writer.h).
// Tracing on needs a rate above 0 and a trace_file (which only the command line sets); an update
// that would turn tracing on without them is refused.
//
// Thread-safe. Sample is one relaxed atomic load while no setting traces anything.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/trace/trace.h"
#include "server/trace/trace_file_writer.h"
#include "server/trace/trace_settings.h"

namespace sonic::server {

class TraceSettingState;

class TraceManager {
 public:
  // `startup`: the global setting at start, and the values cleared global fields return to.
  explicit TraceManager(const TraceSettingValues& startup = {});
  // Writes out every setting's buffered traces (traces still in flight are written when they
  // finish) and closes the trace files no trace in flight still uses.
  ~TraceManager();

  TraceManager(const TraceManager&) = delete;
  TraceManager& operator=(const TraceManager&) = delete;

  // A new trace for a request to `model_name` when its setting samples this request, else null.
  std::shared_ptr<Trace> Sample(std::string_view model_name);

  // The settings in effect for `model_name` (the global ones when empty or when the model has
  // none of its own); trace_count is what is left of it.
  TraceSettingMap Get(const std::string& model_name) const;

  // Applies `settings` (ParseTraceSettingUpdate's errors) to the model's setting, or to the
  // global one when `model_name` is empty, and returns the settings in effect afterwards.
  // INVALID_ARGUMENT when the result would trace without a rate or a trace file; nothing
  // changes on any error.
  absl::StatusOr<TraceSettingMap> Update(const std::string& model_name,
                                         const TraceSettingMap& settings);

 private:
  // The fields a setting names itself; the others come from the setting below it.
  struct Specified {
    bool level = false, rate = false, count = false, log_frequency = false;
    bool any() const { return level || rate || count || log_frequency; }
  };
  struct Entry {
    std::shared_ptr<TraceSettingState> state;
    Specified specified;
  };

  // `base`'s values overridden by `own`'s specified fields.
  static TraceSettingValues Merge(const TraceSettingValues& base, const TraceSettingValues& own,
                                  const Specified& specified);
  absl::StatusOr<Entry> Derive(const Entry* current, const TraceSettingValues& base,
                               const TraceSettingUpdate& update)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Update's work under the lock; the settings it replaces go to `replaced`.
  absl::StatusOr<TraceSettingMap> UpdateLocked(const std::string& model_name,
                                               const TraceSettingUpdate& update,
                                               std::vector<Entry>& replaced)
      ABSL_LOCKS_EXCLUDED(mutex_);
  std::shared_ptr<TraceFileWriter> Writer(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void UpdateAnyTracing() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const TraceSettingValues startup_;
  std::atomic<uint64_t> next_id_{1};
  // Whether any setting may trace: lets Sample skip the lock for every request otherwise.
  std::atomic<bool> any_tracing_{false};
  mutable absl::Mutex mutex_;
  Entry global_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Entry, std::less<>> models_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::weak_ptr<TraceFileWriter>> writers_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sonic::server
