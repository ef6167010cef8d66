#include "request_recorder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sonic::tools {

void RequestRecorder::Record(const RequestRecord& record, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  records_.push_back(record);
  if (!status.ok() && first_error_.empty()) {
    first_error_ = absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
  }
}

std::vector<RequestRecord> RequestRecorder::TakeEndedBy(absl::Time until) {
  absl::MutexLock lock(&mu_);
  auto later = std::partition(records_.begin(), records_.end(),
                              [until](const RequestRecord& record) { return record.end <= until; });
  std::vector<RequestRecord> taken(records_.begin(), later);
  records_.erase(records_.begin(), later);
  return taken;
}

size_t RequestRecorder::Pending() const {
  absl::MutexLock lock(&mu_);
  return records_.size();
}

std::string RequestRecorder::FirstError() const {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

}  // namespace sonic::tools
