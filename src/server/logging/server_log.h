// The server's log, with Triton's levels, settings and line formats, changeable at run time (the
// LogSettings RPC, tritonserver's --log-* flags).
//
// Levels: ERROR, WARNING and INFO, each on or off, and VERBOSE messages of level 1, 2, ... shown
// when their level is <= verbose_level (0 = none). Lines go to stderr, or appended to `file`.
// Formats, as Triton's:
//   default:  I1201 16:18:35.123456 4242 model_manager.cc:57] message
//   ISO8601:  2026-12-01T16:18:35Z I 4242 model_manager.cc:57] message
// (level letter E, W, I, or V for verbose; then the thread id and the source location).
//
// Thread-safe. Checking whether a level is on costs one relaxed atomic load, so verbose logging
// on a hot path is free while it is off.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <source_location>
#include <string>
#include <string_view>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

enum class LogFormat { kDefault, kIso8601 };

struct LogSettings {
  std::string file;  // empty: stderr
  bool info = true;
  bool warning = true;
  bool error = true;
  uint32_t verbose_level = 0;
  LogFormat format = LogFormat::kDefault;
};

// "default" / "ISO8601" (Triton's spelling; case-sensitive as Triton's).
std::string_view LogFormatName(LogFormat format);
// INVALID_ARGUMENT naming the accepted values for anything else.
absl::Status ParseLogFormat(std::string_view name, LogFormat& format);

// Settings by Triton's names, as the LogSettings RPC and /v2/logging exchange them: log_file
// (string), log_info, log_warning, log_error (bool), log_verbose_level (uint32), log_format
// (string). Updates also take log_warnings and log_errors, the names of Triton's protocol
// document (its server and clients use the singular).
using LogSettingValue = std::variant<bool, uint32_t, std::string>;
using LogSettingsMap = std::map<std::string, LogSettingValue>;

LogSettingsMap ToSettingsMap(const LogSettings& settings);
// `settings` with the named ones changed. INVALID_ARGUMENT naming the setting for an unknown
// name, a value of the wrong type or an unknown format, and for log_file, which only the
// command line sets (as Triton: a client must not choose which file the server writes).
absl::StatusOr<LogSettings> UpdatedSettings(LogSettings settings, const LogSettingsMap& changes);

class ServerLog {
 public:
  enum class Level { kError, kWarning, kInfo, kVerbose };

  // The process's log (stderr, default settings until Apply).
  static ServerLog& Get();

  ServerLog() = default;
  ~ServerLog();
  ServerLog(const ServerLog&) = delete;
  ServerLog& operator=(const ServerLog&) = delete;

  // Takes `settings` as a whole. A file that cannot be opened for appending is INVALID_ARGUMENT
  // naming it and the reason, and nothing changes.
  absl::Status Apply(const LogSettings& settings);
  LogSettings settings() const;

  bool Enabled(Level level, uint32_t verbose_level = 1) const;
  // Writes one line if `level` is enabled; the message is written as given (no escaping).
  void Write(Level level, std::string_view message,
             std::source_location where = std::source_location::current(),
             uint32_t verbose_level = 1);

 private:
  static constexpr uint32_t kInfoBit = 1, kWarningBit = 2, kErrorBit = 4;
  // Levels packed for the lock-free check: the bits above, verbose level in the upper bits.
  std::atomic<uint64_t> enabled_{kInfoBit | kWarningBit | kErrorBit};
  mutable absl::Mutex mutex_;
  LogSettings settings_ ABSL_GUARDED_BY(mutex_);
  std::FILE* file_ ABSL_GUARDED_BY(mutex_) = nullptr;  // null: stderr
};

// Shorthands on the process's log.
inline void LogError(std::string_view message,
                     std::source_location where = std::source_location::current()) {
  ServerLog::Get().Write(ServerLog::Level::kError, message, where);
}
inline void LogWarning(std::string_view message,
                       std::source_location where = std::source_location::current()) {
  ServerLog::Get().Write(ServerLog::Level::kWarning, message, where);
}
inline void LogInfo(std::string_view message,
                    std::source_location where = std::source_location::current()) {
  ServerLog::Get().Write(ServerLog::Level::kInfo, message, where);
}
// Callers building an expensive message check VerboseEnabled(level) first.
inline bool VerboseEnabled(uint32_t level) {
  return ServerLog::Get().Enabled(ServerLog::Level::kVerbose, level);
}
inline void LogVerbose(uint32_t level, std::string_view message,
                       std::source_location where = std::source_location::current()) {
  ServerLog::Get().Write(ServerLog::Level::kVerbose, message, where, level);
}

}  // namespace sonic::server
