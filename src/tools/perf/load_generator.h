// The load of a perf run, as perf_analyzer makes it:
//   concurrency  N requests outstanding at all times: each answer sends the next request;
//   request rate sends at the instants of a RequestSchedule, whether or not earlier requests
//                have been answered.
// Async issues calls through gRPC's callback API: no thread waits on a request. Sync uses
// blocking calls: one thread per outstanding request in concurrency mode, a pool of max_threads
// in request-rate mode (sends fall behind the schedule when all are busy). Streaming (async
// only) sends over ModelStreamInfer: one stream per concurrency slot, or one stream for a
// request-rate load.
// Requests are taken in turn from a fixed list; every completed call goes to a RequestRecorder.
//
// Thread-safety: Start and Stop (or the destructor) from one thread; the generator's own work
// runs on its threads and gRPC's.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inference_connection.h"
#include "inference_stream.h"
#include "request_recorder.h"
#include "request_schedule.h"

namespace sonic::tools {

enum class LoadKind { kConcurrency, kRequestRate };

struct LoadSpec {
  LoadKind kind = LoadKind::kConcurrency;
  int concurrency = 1;          // kConcurrency: requests outstanding, >= 1
  double request_rate = 0;      // kRequestRate: requests per second, > 0
  RequestDistribution distribution = RequestDistribution::kConstant;
  bool async = true;
  bool streaming = false;       // requires async
  int max_threads = 16;         // sync request rate: sending threads, >= 1
  uint64_t seed = 1;            // of a Poisson schedule
  // Sync concurrency only: after each answer a thread waits this long before its next request,
  // as a job's thread does the rest of its event (a closed loop with a think time).
  absl::Duration think_time = absl::ZeroDuration();
};

class LoadGenerator {
 public:
  // Starts the load at once. `connection`, `requests` and `recorder` must outlive the
  // generator. INVALID_ARGUMENT for an empty request list or a spec out of range.
  static absl::StatusOr<std::unique_ptr<LoadGenerator>> Start(
      InferenceConnection& connection, const std::vector<inference::ModelInferRequest>& requests,
      RequestRecorder& recorder, const LoadSpec& spec);

  // Stops as Stop() does.
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Sends no more requests and blocks until every outstanding one is answered (and recorded).
  void Stop();

 private:
  LoadGenerator(InferenceConnection& connection,
                const std::vector<inference::ModelInferRequest>& requests,
                RequestRecorder& recorder, const LoadSpec& spec);

  const inference::ModelInferRequest& NextRequest();
  // Sleeps until `when`; false when the load stopped meanwhile.
  bool SleepUntil(absl::Time when) const;
  // Issues one async call (on streams_[slot] when streaming); with `chain`, its answer issues
  // the next one until Stop().
  void IssueAsync(bool chain, size_t slot);
  void RunBlockingClosedLoop();
  void RunScheduledSends(bool async);
  absl::Time NextSendTime();

  InferenceConnection& connection_;
  const std::vector<inference::ModelInferRequest>& requests_;
  RequestRecorder& recorder_;
  const LoadSpec spec_;
  const absl::Time load_start_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_request_{0};

  absl::Mutex mu_;
  int outstanding_async_ ABSL_GUARDED_BY(mu_) = 0;
  RequestSchedule schedule_ ABSL_GUARDED_BY(mu_);

  std::vector<std::unique_ptr<InferenceStream>> streams_;
  std::vector<std::thread> threads_;
};

}  // namespace sonic::tools
