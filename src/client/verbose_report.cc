#include "verbose_report.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "grpc_call.h"
#include "server_statistics.h"
#include "sonic/common/shape.h"

namespace sonic::client::internal {
namespace {

std::string DescribeTensors(const std::vector<TensorInfo>& tensors) {
  std::vector<std::string> parts;
  parts.reserve(tensors.size());
  for (const TensorInfo& tensor : tensors) {
    parts.push_back(absl::StrCat(tensor.name, " (", std::string(WireName(tensor.type)), ", ",
                                 ElementSize(tensor.type), " b) ", ShapeToString(tensor.dims)));
  }
  return absl::StrJoin(parts, ", ");
}

// Average microseconds per request.
double PerRequest(absl::Duration total, uint64_t requests) {
  return absl::ToDoubleMicroseconds(total) / static_cast<double>(requests);
}

}  // namespace

void WriteLog(const LogSink& sink, std::string_view message) {
  if (sink) {
    sink(message);
    return;
  }
  std::clog << (std::string(message) + "\n") << std::flush;
}

std::string DescribeModelForLog(const ModelIo& io, std::string_view context) {
  return absl::StrCat(std::string(context), ": max batch size ", io.max_batch_size,
                      "; inputs: ", DescribeTensors(io.inputs),
                      "; outputs: ", DescribeTensors(io.outputs));
}

std::string FormatAttemptReport(const ServerSideStatistics& server, absl::Duration round_trip) {
  std::string text = absl::StrFormat(
      "server statistics of this request: %d inferences, %d executions, %d successful requests",
      server.inference_count, server.execution_count, server.success_count);
  if (server.success_count > 0) {
    const uint64_t n = server.success_count;
    const absl::Duration accounted = server.queue_time + server.compute_input_time +
                                     server.compute_infer_time + server.compute_output_time;
    const absl::Duration overhead =
        server.request_time > accounted ? server.request_time - accounted : absl::ZeroDuration();
    absl::StrAppend(
        &text,
        absl::StrFormat("; average request latency %.1f us (overhead %.1f us + queue %.1f "
                        "us + compute input %.1f us + compute infer %.1f us + compute "
                        "output %.1f us)",
                        PerRequest(server.request_time, n), PerRequest(overhead, n),
                        PerRequest(server.queue_time, n), PerRequest(server.compute_input_time, n),
                        PerRequest(server.compute_infer_time, n),
                        PerRequest(server.compute_output_time, n)));
  }
  absl::StrAppend(&text, absl::StrFormat("; round trip at the client %.1f us",
                                         absl::ToDoubleMicroseconds(round_trip)));
  return text;
}

AttemptReport::AttemptReport(std::string model, std::string version, absl::Duration deadline)
    : model_(std::move(model)), version_(std::move(version)), deadline_(deadline) {
  request_.set_name(model_);
  request_.set_version(version_);
}

AttemptReport::~AttemptReport() = default;

void AttemptReport::Fetch(inference::GRPCInferenceService::Stub& stub,
                          std::function<void(absl::StatusOr<inference::ModelStatistics>)> done) {
  grpc::ClientContext* context = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) {
      context_.reset();
    } else {
      context_ = std::make_unique<grpc::ClientContext>();
      transport::SetTimeout(*context_, deadline_);
      context = context_.get();
    }
  }
  if (context == nullptr) {
    done(absl::CancelledError("the client is being destroyed"));
    return;
  }
  response_.Clear();
  stub.async()->ModelStatistics(
      context, &request_, &response_, [this, done = std::move(done)](grpc::Status status) {
        absl::StatusOr<inference::ModelStatistics> stats = Pick(status, response_);
        {
          absl::MutexLock lock(&mu_);
          context_.reset();
        }
        // Last: `done` may end the attempt, after which the client (and this) may go.
        done(std::move(stats));
      });
}

absl::StatusOr<inference::ModelStatistics> AttemptReport::Pick(
    const grpc::Status& status, const inference::ModelStatisticsResponse& response) const {
  if (!status.ok()) return transport::FromGrpc(status);
  for (const inference::ModelStatistics& stats : response.model_stats()) {
    if (stats.name() == model_) return stats;
  }
  return absl::NotFoundError("the response has no statistics for the model");
}

void AttemptReport::Begin(inference::GRPCInferenceService::Stub& stub) {
  absl::Notification fetched;
  BeginAsync(stub, [&fetched] { fetched.Notify(); });
  fetched.WaitForNotification();
}

void AttemptReport::BeginAsync(inference::GRPCInferenceService::Stub& stub,
                               std::function<void()> then) {
  begun_ = true;
  report_.clear();
  Fetch(stub, [this, then = std::move(then)](absl::StatusOr<inference::ModelStatistics> stats) {
    before_ = std::move(stats);
    requests_start_ = absl::Now();
    then();
  });
}

void AttemptReport::End(inference::GRPCInferenceService::Stub& stub) {
  absl::Notification fetched;
  EndAsync(stub, [&fetched] { fetched.Notify(); });
  fetched.WaitForNotification();
}

void AttemptReport::EndAsync(inference::GRPCInferenceService::Stub& stub,
                             std::function<void()> then) {
  requests_end_ = absl::Now();
  Fetch(stub, [this, then = std::move(then)](absl::StatusOr<inference::ModelStatistics> stats) {
    Conclude(std::move(stats));
    then();
  });
}

void AttemptReport::Conclude(absl::StatusOr<inference::ModelStatistics> after) {
  begun_ = false;
  if (!before_.ok() || !after.ok()) {
    const absl::Status& why = before_.ok() ? after.status() : before_.status();
    report_ = absl::StrCat("no server statistics for this request: ", why.ToString());
    return;
  }
  report_ =
      FormatAttemptReport(DiffServerStatistics(*before_, *after), requests_end_ - requests_start_);
}

std::string AttemptReport::Take() { return std::exchange(report_, std::string()); }

void AttemptReport::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

}  // namespace sonic::client::internal
