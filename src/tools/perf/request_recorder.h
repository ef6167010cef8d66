// Collects the RequestRecords of a load as the calls complete, for the measurement windows to
// take. Thread-safe: Record() from any number of threads (gRPC callbacks, sync workers) while
// another thread calls TakeEndedBy().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inference_connection.h"

namespace sonic::tools {

class RequestRecorder {
 public:
  // Keeps `record`; a failed one also keeps the first error's text.
  void Record(const RequestRecord& record, const absl::Status& status);

  // Removes and returns the records of the calls that ended at or before `until`, in no
  // particular order; later ones stay for the next window.
  std::vector<RequestRecord> TakeEndedBy(absl::Time until);

  // How many records are held (not taken yet).
  size_t Pending() const;

  // The first failure's "CODE: message", "" when nothing failed.
  std::string FirstError() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<RequestRecord> records_ ABSL_GUARDED_BY(mu_);
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sonic::tools
