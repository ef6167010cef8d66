#include "server/trace/trace_file_writer.h"

#include <cerrno>
#include <cstring>
#include <iostream>

namespace sonic::server {

TraceFileWriter::~TraceFileWriter() {
  absl::MutexLock lock(&mutex_);
  if (!main_started_) return;
  main_ << "]";
  main_.close();
  if (!main_) ReportError(path_);
}

void TraceFileWriter::ReportError(const std::string& file) {
  if (error_reported_) return;
  error_reported_ = true;
  std::cerr << "sonic-server: cannot write trace file '" << file << "': " << std::strerror(errno)
            << std::endl;
}

void TraceFileWriter::WriteMain(std::string_view json_objects) {
  if (json_objects.empty()) return;
  absl::MutexLock lock(&mutex_);
  if (!main_started_) {
    main_started_ = true;
    main_.open(path_, std::ios::out | std::ios::trunc | std::ios::binary);
    main_ << "[";
  } else {
    main_ << ",";
  }
  main_ << json_objects;
  main_.flush();
  if (!main_) ReportError(path_);
}

void TraceFileWriter::WriteIndexed(std::string_view json_objects) {
  if (json_objects.empty()) return;
  absl::MutexLock lock(&mutex_);
  const std::string file = path_ + "." + std::to_string(next_index_++);
  std::ofstream out(file, std::ios::out | std::ios::trunc | std::ios::binary);
  out << "[" << json_objects << "]";
  out.close();
  if (!out) ReportError(file);
}

}  // namespace sonic::server
