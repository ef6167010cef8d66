// The client side of a benchmark: sonic-server started from the build tree, closed-loop load
// from concurrent gRPC clients, and the server's model statistics.
#pragma once

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server_process.h"

namespace sonic::bench {

// Starts the sonic-server built beside the running benchmark executable (build/bin), or under
// $SONIC_BUILD_DIR/bin when that is set, serving `repository` with `extra_args` added. Blocks
// until it listens. Errors are ServerProcess::Start's (they carry the server's log).
absl::StatusOr<std::unique_ptr<testing::ServerProcess>> StartServer(
    const std::filesystem::path& repository, std::vector<std::string> extra_args = {});

// A channel of its own to `address` (gRPC otherwise shares one TCP connection between channels
// with equal arguments), with unlimited message sizes as Triton's clients have.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);

struct LoadOptions {
  std::string address;                       // host:port of the server.
  inference::ModelInferRequest request;      // Sent unchanged by every client, again and again.
  int clients = 16;                          // Threads, each with its own channel (TCP connection).
  absl::Duration warmup = absl::Seconds(1);  // Requests in this first stretch are not counted.
  absl::Duration duration = absl::Seconds(5);  // The measured stretch after the warm-up.
  absl::Duration rpc_deadline = absl::Seconds(30);
};

struct LoadResult {
  int64_t successes = 0;           // Requests started and answered OK within the measured stretch.
  int64_t failures = 0;            // Requests that failed at any time (warm-up included).
  std::string first_error;         // The first failure's code and message; empty when none failed.
  double requests_per_second = 0;  // successes / duration.
  absl::Duration p50_latency;      // Of the successes; zero when there were none.
  absl::Duration p99_latency;
};

// Closed loop: each client sends the request, waits for its answer, and sends it again, until
// warm-up + duration has passed; blocks until every client is done. A request counts when it
// both starts and ends within the measured stretch. Failures are counted, not fatal: the caller
// decides whether a run with failures means anything. INVALID_ARGUMENT for clients < 1 or a
// non-positive duration.
absl::StatusOr<LoadResult> RunClientLoad(const LoadOptions& options);

// The server's statistics of the latest version of `model` (for their difference over a phase:
// tools::StatisticsDelta of src/tools/perf/server_statistics.h). Errors: the RPC's code and
// message.
absl::StatusOr<inference::ModelStatistics> FetchModelStatistics(const std::string& address,
                                                                const std::string& model);

// Over a ModelStatistics delta: the time the model's instances spent executing (compute input +
// infer + output of every execution, from batch_stats) per batch entry inferred; zero when none
// was. (inference_stats give each request its whole execution's time, so their averages weigh
// large executions more than small ones.)
absl::Duration ExecutionTimePerInference(const inference::ModelStatistics& delta);

}  // namespace sonic::bench
