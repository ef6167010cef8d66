// Writes traces to one trace file the way Triton does, so Triton's trace tools read it:
//  - the main file `path` is created (truncated) at the first WriteMain, starts with "[", gets
//    each batch of traces appended after a ",", and is closed with "]" when the writer is
//    destroyed (when no trace setting uses the path any more: a settings change or shutdown);
//  - WriteIndexed writes a batch as a complete JSON array to `path.<index>`, the index counting
//    from 0 for each writer (log_frequency rotation; a trace_count reaching 0).
// A path is shared by every trace setting naming it (TraceManager keeps one writer per path).
//
// Thread-safe. Writes block on the file system. Write errors cannot be returned to anyone (they
// happen when a request's trace is released): they are reported on stderr, once per writer.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

class TraceFileWriter {
 public:
  explicit TraceFileWriter(std::string path) : path_(std::move(path)) {}
  // Closes the main file's array, if it was started.
  ~TraceFileWriter();

  TraceFileWriter(const TraceFileWriter&) = delete;
  TraceFileWriter& operator=(const TraceFileWriter&) = delete;

  const std::string& path() const { return path_; }

  // `json_objects`: trace objects, comma-separated, without brackets; nothing for an empty one.
  void WriteMain(std::string_view json_objects);
  void WriteIndexed(std::string_view json_objects);

 private:
  void ReportError(const std::string& file) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string path_;
  absl::Mutex mutex_;
  std::ofstream main_ ABSL_GUARDED_BY(mutex_);
  bool main_started_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t next_index_ ABSL_GUARDED_BY(mutex_) = 0;
  bool error_reported_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace sonic::server
