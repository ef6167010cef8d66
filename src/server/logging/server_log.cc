#include "server/logging/server_log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sonic::server {
namespace {

char LevelLetter(ServerLog::Level level) {
  switch (level) {
    case ServerLog::Level::kError:
      return 'E';
    case ServerLog::Level::kWarning:
      return 'W';
    case ServerLog::Level::kInfo:
      return 'I';
    case ServerLog::Level::kVerbose:
      return 'V';
  }
  return '?';
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string FormatLine(LogFormat format, ServerLog::Level level, std::string_view message,
                       const std::source_location& where) {
  const absl::Time now = absl::Now();
  const std::string location =
      absl::StrCat(static_cast<long>(getpid()), " ", std::string(BaseName(where.file_name())), ":",
                   where.line(), "] ");
  if (format == LogFormat::kIso8601) {
    return absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()), " ",
                        std::string(1, LevelLetter(level)), " ", location, std::string(message),
                        "\n");
  }
  return absl::StrCat(std::string(1, LevelLetter(level)),
                      absl::FormatTime("%m%d %H:%M:%E6S", now, absl::LocalTimeZone()), " ",
                      location, std::string(message), "\n");
}

}  // namespace

std::string_view LogFormatName(LogFormat format) {
  return format == LogFormat::kIso8601 ? "ISO8601" : "default";
}

absl::Status ParseLogFormat(std::string_view name, LogFormat& format) {
  if (name == "default") {
    format = LogFormat::kDefault;
  } else if (name == "ISO8601") {
    format = LogFormat::kIso8601;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("log format '", std::string(name), "' is not one of 'default', 'ISO8601'"));
  }
  return absl::OkStatus();
}

LogSettingsMap ToSettingsMap(const LogSettings& settings) {
  return {{"log_file", settings.file},
          {"log_info", settings.info},
          {"log_warning", settings.warning},
          {"log_error", settings.error},
          {"log_verbose_level", settings.verbose_level},
          {"log_format", std::string(LogFormatName(settings.format))}};
}

namespace {

const char* TypeName(const LogSettingValue& value) {
  return std::holds_alternative<bool>(value)       ? "bool"
         : std::holds_alternative<uint32_t>(value) ? "uint32"
                                                   : "string";
}

template <typename T>
absl::Status Take(const std::string& name, const LogSettingValue& value, T& field) {
  if (const T* typed = std::get_if<T>(&value)) {
    field = *typed;
    return absl::OkStatus();
  }
  const char* wanted = std::is_same_v<T, bool>       ? "bool"
                       : std::is_same_v<T, uint32_t> ? "uint32"
                                                     : "string";
  return absl::InvalidArgumentError(
      absl::StrCat("log setting '", name, "' must be a ", wanted, ", got a ", TypeName(value)));
}

}  // namespace

absl::StatusOr<LogSettings> UpdatedSettings(LogSettings settings, const LogSettingsMap& changes) {
  for (const auto& [name, value] : changes) {
    absl::Status status;
    if (name == "log_file") {
      // As Triton: a client must not choose which file the server writes to.
      status = absl::InvalidArgumentError(
          "log setting 'log_file' can only be set on the command line (--log-file)");
    } else if (name == "log_info") {
      status = Take(name, value, settings.info);
    } else if (name == "log_warning" || name == "log_warnings") {
      status = Take(name, value, settings.warning);
    } else if (name == "log_error" || name == "log_errors") {
      status = Take(name, value, settings.error);
    } else if (name == "log_verbose_level") {
      status = Take(name, value, settings.verbose_level);
    } else if (name == "log_format") {
      std::string format;
      status = Take(name, value, format);
      if (status.ok()) status = ParseLogFormat(format, settings.format);
    } else {
      status = absl::InvalidArgumentError(absl::StrCat(
          "unknown log setting '", name,
          "'; known: log_file, log_info, log_warning, log_error, log_verbose_level, log_format"));
    }
    if (!status.ok()) return status;
  }
  return settings;
}

ServerLog& ServerLog::Get() {
  static ServerLog* log = new ServerLog();  // never destroyed: threads may log at exit
  return *log;
}

ServerLog::~ServerLog() {
  absl::MutexLock lock(&mutex_);
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status ServerLog::Apply(const LogSettings& settings) {
  std::FILE* file = nullptr;
  if (!settings.file.empty()) {
    file = std::fopen(settings.file.c_str(), "a");
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot open log file '", settings.file, "': ", std::strerror(errno)));
    }
  }
  absl::MutexLock lock(&mutex_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = file;
  settings_ = settings;
  const uint64_t bits = (settings.info ? kInfoBit : 0) | (settings.warning ? kWarningBit : 0) |
                        (settings.error ? kErrorBit : 0) |
                        (static_cast<uint64_t>(settings.verbose_level) << 32);
  enabled_.store(bits, std::memory_order_relaxed);
  return absl::OkStatus();
}

LogSettings ServerLog::settings() const {
  absl::MutexLock lock(&mutex_);
  return settings_;
}

bool ServerLog::Enabled(Level level, uint32_t verbose_level) const {
  const uint64_t bits = enabled_.load(std::memory_order_relaxed);
  switch (level) {
    case Level::kError:
      return (bits & kErrorBit) != 0;
    case Level::kWarning:
      return (bits & kWarningBit) != 0;
    case Level::kInfo:
      return (bits & kInfoBit) != 0;
    case Level::kVerbose:
      return verbose_level != 0 && verbose_level <= (bits >> 32);
  }
  return false;
}

void ServerLog::Write(Level level, std::string_view message, std::source_location where,
                      uint32_t verbose_level) {
  if (!Enabled(level, verbose_level)) return;
  absl::MutexLock lock(&mutex_);
  const std::string line = FormatLine(settings_.format, level, message, where);
  std::FILE* out = file_ != nullptr ? file_ : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace sonic::server
