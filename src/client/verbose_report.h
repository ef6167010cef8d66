// What a TritonClient with `verbose` logs, as CMSSW's verbose TritonClient does: the model it
// uses (at Create), and for every attempt whose requests all succeeded the difference of the
// model's ModelStatistics on the server taken just before and just after the attempt's
// requests: counts, and per successful request the average latency split into queue, compute
// input, compute infer, compute output and the rest (overhead), beside the client's round trip.
// Internal to the client library.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inference/grpc_service.grpc.pb.h"
#include "model_io.h"
#include "sonic/client/client_statistics.h"
#include "sonic/client/triton_client.h"

namespace sonic::client::internal {

// Gives `message` to `sink`, or writes it to std::clog as one flushed block when `sink` is
// empty. Thread-safe when the sink is.
void WriteLog(const LogSink& sink, std::string_view message);

// "<context>: max batch size N; inputs: NAME (FP32, 4 b) [-1, 16], ...; outputs: ...", the
// model description CMSSW's verbose client prints.
std::string DescribeModelForLog(const ModelIo& io, std::string_view context);

// The per-attempt report: the server's counts over the attempt's window and, when it had
// successful requests, the average latency per request split as above (in microseconds), then
// the client's round trip of the attempt's requests. Pure.
std::string FormatAttemptReport(const ServerSideStatistics& server, absl::Duration round_trip);

// The two snapshots around one attempt of one client. An attempt is Begin (or BeginAsync), the
// client's requests, then End (or EndAsync) when they all succeeded or Abandon when one failed.
// A snapshot that fails (a server without statistics, a server gone) makes the report say why
// instead of giving numbers; it never fails the attempt.
//
// Thread-compatible: driven by one client, one attempt at a time; the *Async variants' `then`
// runs on a gRPC callback thread. Cancel() may be called from any thread at any time.
class AttemptReport {
 public:
  // Snapshots ask for `model` (version `version`, "" for the server's choice), each with
  // deadline `deadline`.
  AttemptReport(std::string model, std::string version, absl::Duration deadline);
  ~AttemptReport();
  AttemptReport(const AttemptReport&) = delete;
  AttemptReport& operator=(const AttemptReport&) = delete;

  // Whether Begin has run for the current attempt and neither End nor Abandon since.
  bool begun() const { return begun_; }

  // The snapshot before the requests. Blocks for one ModelStatistics RPC.
  void Begin(inference::GRPCInferenceService::Stub& stub);
  // The same without blocking: `then` runs on a gRPC thread once the snapshot is in or failed
  // (at once, failed, after Cancel()).
  void BeginAsync(inference::GRPCInferenceService::Stub& stub, std::function<void()> then);

  // The snapshot after the requests succeeded, and the report text (see Take). Blocks.
  void End(inference::GRPCInferenceService::Stub& stub);
  // The same without blocking; `then` runs on a gRPC thread once the report is ready.
  void EndAsync(inference::GRPCInferenceService::Stub& stub, std::function<void()> then);

  // Ends an attempt that failed: no report.
  void Abandon() { begun_ = false; }

  // The report of the last End (FormatAttemptReport, or why there are no numbers), once; ""
  // afterwards or when there is none.
  std::string Take();

  // Cancels a snapshot in flight and makes later ones fail at once (the client is going away).
  void Cancel();

 private:
  // Starts one ModelStatistics RPC; `done` runs on a gRPC thread with the model's statistics.
  void Fetch(inference::GRPCInferenceService::Stub& stub,
             std::function<void(absl::StatusOr<inference::ModelStatistics>)> done);
  // The model's entry in `response`, or why there is none.
  absl::StatusOr<inference::ModelStatistics> Pick(
      const grpc::Status& status, const inference::ModelStatisticsResponse& response) const;
  void Conclude(absl::StatusOr<inference::ModelStatistics> after);

  const std::string model_;
  const std::string version_;
  const absl::Duration deadline_;

  bool begun_ = false;
  absl::StatusOr<inference::ModelStatistics> before_;
  absl::Time requests_start_;
  absl::Time requests_end_;
  std::string report_;

  // The RPC in flight (one at a time), kept until its callback has run.
  inference::ModelStatisticsRequest request_;
  inference::ModelStatisticsResponse response_;
  absl::Mutex mu_;
  std::unique_ptr<grpc::ClientContext> context_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sonic::client::internal
