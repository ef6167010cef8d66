#include "server/trace/trace_settings.h"

#include <charconv>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

constexpr char kLevel[] = "trace_level";
constexpr char kRate[] = "trace_rate";
constexpr char kCount[] = "trace_count";
constexpr char kLogFrequency[] = "log_frequency";
constexpr char kFile[] = "trace_file";
constexpr char kMode[] = "trace_mode";

absl::Status OpenTelemetryRefused() {
  return absl::UnimplementedError(
      "trace mode 'opentelemetry' is not supported by sonic-server: only 'triton' (a JSON trace "
      "file)");
}

absl::Status TensorsRefused() {
  return absl::UnimplementedError(
      "trace level TENSORS is not supported by sonic-server: only TIMESTAMPS (or OFF)");
}

// A whole decimal integer in [min, max]; `what` names the setting in errors.
absl::StatusOr<int64_t> ParseInteger(const std::string& what, const std::string& text,
                                     int64_t min, int64_t max) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || ptr != end || error == std::errc::invalid_argument) {
    return absl::InvalidArgumentError(absl::StrCat("Unable to parse '", what, "', got: ", text));
  }
  if (error == std::errc::result_out_of_range || value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat("Unable to parse '", what,
                                                   "', value is out of range [ ", min, ", ", max,
                                                   " ], got: ", text));
  }
  return value;
}

absl::StatusOr<const std::string*> SingleValue(const std::string& name,
                                               const std::vector<std::string>& values) {
  if (values.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("expect only 1 value for '", name, "', got ",
                                                   values.size(), ": [",
                                                   absl::StrJoin(values, ", "), "]"));
  }
  return &values.front();
}

template <typename T>
absl::Status ParseNumberChange(const std::string& name, const std::vector<std::string>& values,
                               int64_t min, TraceSettingChange<T>& change) {
  if (values.empty()) {
    change.clear = true;
    return absl::OkStatus();
  }
  SONIC_ASSIGN_OR_RETURN(const std::string* text, SingleValue(name, values));
  SONIC_ASSIGN_OR_RETURN(int64_t value,
                         ParseInteger(name, *text, min, std::numeric_limits<T>::max()));
  change.value = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status ParseLevelChange(const std::vector<std::string>& values,
                              TraceSettingChange<bool>& change) {
  if (values.empty()) {
    change.clear = true;
    return absl::OkStatus();
  }
  bool timestamps = false;
  for (const std::string& level : values) {
    if (level == "OFF") {
      if (values.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("Expect only one trace level 'OFF' is specified, got: [",
                         absl::StrJoin(values, ", "), "]"));
      }
    } else if (level == "TIMESTAMPS") {
      timestamps = true;
    } else if (level == "TENSORS") {
      return TensorsRefused();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown value for 'trace_level': '", level, "' (expected OFF or TIMESTAMPS)"));
    }
  }
  change.value = timestamps;
  return absl::OkStatus();
}

absl::Status CheckMode(const std::string& what, const std::string& mode) {
  const std::string lower = absl::AsciiStrToLower(mode);
  if (lower == "triton") return absl::OkStatus();
  if (lower == "opentelemetry") return OpenTelemetryRefused();
  return absl::InvalidArgumentError(absl::StrCat("unknown value for '", what, "': '", mode,
                                                 "' (expected triton)"));
}

}  // namespace

TraceSettingMap ToTraceSettingMap(const TraceSettingValues& values) {
  return {
      {kLevel, {values.timestamps ? "TIMESTAMPS" : "OFF"}},
      {kRate, {std::to_string(values.rate)}},
      {kCount, {std::to_string(values.count)}},
      {kLogFrequency, {std::to_string(values.log_frequency)}},
      {kFile, {values.file}},
      {kMode, {"triton"}},
  };
}

absl::StatusOr<TraceSettingUpdate> ParseTraceSettingUpdate(const TraceSettingMap& settings) {
  TraceSettingUpdate update;
  for (const auto& [name, values] : settings) {
    if (name == kLevel) {
      SONIC_RETURN_IF_ERROR(ParseLevelChange(values, update.level));
    } else if (name == kRate) {
      SONIC_RETURN_IF_ERROR(ParseNumberChange(name, values, 0, update.rate));
    } else if (name == kCount) {
      SONIC_RETURN_IF_ERROR(ParseNumberChange(name, values, -1, update.count));
    } else if (name == kLogFrequency) {
      SONIC_RETURN_IF_ERROR(ParseNumberChange(name, values, 0, update.log_frequency));
    } else if (name == kFile) {
      return absl::UnimplementedError(
          "trace file location can not be updated through network protocol");
    } else if (name == kMode) {
      // Only the mode in effect may be named (a no-op); clearing it is one too.
      if (!values.empty()) {
        SONIC_ASSIGN_OR_RETURN(const std::string* mode, SingleValue(name, values));
        SONIC_RETURN_IF_ERROR(CheckMode(name, *mode));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown trace setting '", name, "' (expected trace_level, trace_rate, trace_count, ",
          "log_frequency, trace_file or trace_mode)"));
    }
  }
  return update;
}

namespace {

// tritonserver's level spellings, case-insensitive: on/off as well as the level names.
absl::StatusOr<bool> ParseFlagLevel(const std::string& flag, const std::string& text) {
  const std::string level = absl::AsciiStrToLower(text);
  if (level == "off" || level == "false") return false;
  if (level == "timestamps" || level == "on" || level == "true" || level == "min" ||
      level == "max") {
    return true;
  }
  if (level == "tensors") return TensorsRefused();
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": invalid trace level '", text, "' (expected OFF or TIMESTAMPS)"));
}

// The flags' levels combined: OFF anywhere wins, otherwise any TIMESTAMPS turns tracing on.
struct LevelState {
  bool any_on = false;
  bool explicit_off = false;
  absl::Status Add(const std::string& flag, const std::string& text) {
    SONIC_ASSIGN_OR_RETURN(bool on, ParseFlagLevel(flag, text));
    (on ? any_on : explicit_off) = true;
    return absl::OkStatus();
  }
};

absl::Status ApplyConfig(const std::string& arg, TraceSettingValues& values, LevelState& level,
                         bool& opentelemetry_mode) {
  const std::string flag = "--trace-config " + arg;
  std::string mode;
  std::string rest = arg;
  const size_t comma = arg.find(',');
  const size_t equals = arg.find('=');
  if (comma != std::string::npos && (equals == std::string::npos || comma < equals)) {
    mode = absl::AsciiStrToLower(arg.substr(0, comma));
    rest = arg.substr(comma + 1);
    if (mode.empty()) {
      return absl::InvalidArgumentError(
          flag + ": no trace mode before ','; the format is [<mode>,]<setting>=<value>");
    }
  }
  const size_t eq = rest.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == rest.size()) {
    return absl::InvalidArgumentError(flag + ": the format is [<mode>,]<setting>=<value>");
  }
  const std::string setting = rest.substr(0, eq);
  const std::string value = rest.substr(eq + 1);
  if (mode == "opentelemetry") return absl::OkStatus();  // unused in mode triton, as in Triton
  if (!mode.empty() && mode != "triton") {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": unknown trace mode '", mode, "' (expected triton)"));
  }
  if (mode == "triton" && setting == "file") {
    values.file = value;
  } else if (mode == "triton" && setting == "log-frequency") {
    SONIC_ASSIGN_OR_RETURN(int64_t n, ParseInteger(flag, value, 0, UINT32_MAX));
    values.log_frequency = static_cast<uint32_t>(n);
  } else if (mode.empty() && setting == "level") {
    SONIC_RETURN_IF_ERROR(level.Add(flag, value));
  } else if (mode.empty() && setting == "rate") {
    SONIC_ASSIGN_OR_RETURN(int64_t n, ParseInteger(flag, value, 0, UINT32_MAX));
    values.rate = static_cast<uint32_t>(n);
  } else if (mode.empty() && setting == "count") {
    SONIC_ASSIGN_OR_RETURN(int64_t n, ParseInteger(flag, value, -1, INT32_MAX));
    values.count = static_cast<int32_t>(n);
  } else if (mode.empty() && setting == "mode") {
    const absl::Status checked = CheckMode(flag, value);
    if (absl::IsUnimplemented(checked)) opentelemetry_mode = true;
    if (!checked.ok() && !absl::IsUnimplemented(checked)) return checked;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": unknown setting '", setting, "'", mode.empty() ? "" : " for mode triton",
        " (global: level, rate, count, mode; triton,: file, log-frequency)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TraceSettingValues> TraceSettingsFromFlags(const TraceFlags& flags) {
  TraceSettingValues values;
  LevelState level;
  for (const std::string& text : flags.level) {
    SONIC_RETURN_IF_ERROR(level.Add("--trace-level", text));
  }
  if (flags.file) values.file = *flags.file;
  if (flags.rate) {
    SONIC_ASSIGN_OR_RETURN(int64_t n, ParseInteger("--trace-rate", *flags.rate, 0, UINT32_MAX));
    values.rate = static_cast<uint32_t>(n);
  }
  if (flags.count) {
    SONIC_ASSIGN_OR_RETURN(int64_t n, ParseInteger("--trace-count", *flags.count, -1, INT32_MAX));
    values.count = static_cast<int32_t>(n);
  }
  if (flags.log_frequency) {
    SONIC_ASSIGN_OR_RETURN(
        int64_t n, ParseInteger("--trace-log-frequency", *flags.log_frequency, 0, UINT32_MAX));
    values.log_frequency = static_cast<uint32_t>(n);
  }
  bool opentelemetry_mode = false;
  for (const std::string& arg : flags.config) {
    SONIC_RETURN_IF_ERROR(ApplyConfig(arg, values, level, opentelemetry_mode));
  }
  if (opentelemetry_mode) return OpenTelemetryRefused();
  values.timestamps = level.any_on && !level.explicit_off;
  return values;
}

}  // namespace sonic::server
