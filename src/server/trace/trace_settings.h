// Triton's trace settings (docs/user_guide/trace.md, docs/protocol/extension_trace.md): their
// values, the TraceSetting protocol's name -> values map, and tritonserver's trace flags.
//
// Only trace mode "triton" (a JSON trace file) and level TIMESTAMPS exist here: mode
// "opentelemetry" and level TENSORS are refused with UNIMPLEMENTED wherever they are named.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic::server {

// The values of one trace setting; the defaults are Triton's.
struct TraceSettingValues {
  bool timestamps = false;     // trace_level: TIMESTAMPS (true) or OFF
  uint32_t rate = 1000;        // trace_rate: trace every rate-th request
  int32_t count = -1;          // trace_count: traces left to take; -1 = unlimited
  uint32_t log_frequency = 0;  // write trace_file.<n> every log_frequency traces; 0 = at the end
  std::string file;            // trace_file; empty = nowhere (nothing is traced)

  bool operator==(const TraceSettingValues&) const = default;
};

// Settings by Triton's names, as the TraceSetting RPC and /v2/trace/setting exchange them:
// trace_level (a list), trace_rate, trace_count, log_frequency, trace_file, trace_mode (one
// value each, as strings). In an update an empty list clears the setting (back to the global
// one for a model, to the startup value for the global setting).
using TraceSettingMap = std::map<std::string, std::vector<std::string>>;

TraceSettingMap ToTraceSettingMap(const TraceSettingValues& values);

// One setting of an update: left alone, cleared, or given a new value.
template <typename T>
struct TraceSettingChange {
  bool clear = false;
  std::optional<T> value;
  bool touched() const { return clear || value.has_value(); }
};

struct TraceSettingUpdate {
  TraceSettingChange<bool> level;  // true = TIMESTAMPS
  TraceSettingChange<uint32_t> rate;
  TraceSettingChange<int32_t> count;
  TraceSettingChange<uint32_t> log_frequency;
};

// Parses an update. Errors, naming the setting and the value: INVALID_ARGUMENT for an unknown
// setting, a value that is not a number or out of range, several values for a one-value
// setting, an unknown level or OFF with another level; UNIMPLEMENTED for trace_file (not
// settable over the network, as in Triton), level TENSORS and mode opentelemetry.
absl::StatusOr<TraceSettingUpdate> ParseTraceSettingUpdate(const TraceSettingMap& settings);

// tritonserver's trace flags, as given (each repeatable flag in command-line order).
struct TraceFlags {
  std::vector<std::string> config;  // --trace-config [<mode>,]<setting>=<value>
  // Deprecated forms, still accepted by tritonserver; --trace-config overrides them.
  std::vector<std::string> level;   // --trace-level
  std::optional<std::string> file;  // --trace-file
  std::optional<std::string> rate;  // --trace-rate
  std::optional<std::string> count;  // --trace-count
  std::optional<std::string> log_frequency;  // --trace-log-frequency
};

// The startup (global default) settings from the flags, as tritonserver combines them: levels
// add up, and a level OFF anywhere turns tracing off. Global settings are level, rate, count and
// mode; `triton,` settings are file and log-frequency; `opentelemetry,` settings are ignored
// unless mode=opentelemetry, which is refused. INVALID_ARGUMENT (UNIMPLEMENTED for TENSORS and
// opentelemetry) naming the flag for anything else.
absl::StatusOr<TraceSettingValues> TraceSettingsFromFlags(const TraceFlags& flags);

}  // namespace sonic::server
