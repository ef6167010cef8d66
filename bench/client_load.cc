#include "client_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc_call.h"
#include "grpc_channel.h"

namespace sonic::bench {
namespace {

std::filesystem::path ServerBinary() {
  if (const char* build_dir = std::getenv("SONIC_BUILD_DIR"); build_dir != nullptr) {
    return std::filesystem::path(build_dir) / "bin" / "sonic-server";
  }
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : self.parent_path() / "sonic-server";
}

std::unique_ptr<inference::GRPCInferenceService::Stub> NewStub(const std::string& address) {
  return inference::GRPCInferenceService::NewStub(NewChannel(address));
}

struct ClientTally {
  int64_t failures = 0;
  std::string first_error;
  std::vector<absl::Duration> latencies;  // Of the counted successes.
};

ClientTally RunOneClient(const LoadOptions& options, absl::Time measure_from,
                         absl::Time measure_until) {
  ClientTally tally;
  auto stub = NewStub(options.address);
  inference::ModelInferResponse response;
  for (absl::Time begin = absl::Now(); begin < measure_until; begin = absl::Now()) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(begin + options.rpc_deadline));
    const grpc::Status status = stub->ModelInfer(&context, options.request, &response);
    const absl::Time end = absl::Now();
    if (!status.ok()) {
      if (tally.failures++ == 0) {
        tally.first_error = absl::StrCat(status.error_code(), ": ", status.error_message());
      }
    } else if (begin >= measure_from && end <= measure_until) {
      tally.latencies.push_back(end - begin);
    }
  }
  return tally;
}

absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double fraction) {
  if (sorted.empty()) return absl::ZeroDuration();
  const size_t index = static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

}  // namespace

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  // The local subchannel pool keeps the channel from sharing a connection.
  transport::ChannelOptions options;
  options.address = address;
  grpc::ChannelArguments args = transport::ChannelArgumentsOf(options);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::unique_ptr<testing::ServerProcess>> StartServer(
    const std::filesystem::path& repository, std::vector<std::string> extra_args) {
  testing::ServerProcess::Options options;
  options.binary = ServerBinary();
  options.args = {"--model-repository", repository.string()};
  options.args.insert(options.args.end(), extra_args.begin(), extra_args.end());
  return testing::ServerProcess::Start(options);
}

absl::StatusOr<LoadResult> RunClientLoad(const LoadOptions& options) {
  if (options.clients < 1 || options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a load needs at least one client and a positive duration");
  }
  const absl::Time measure_from = absl::Now() + options.warmup;
  const absl::Time measure_until = measure_from + options.duration;
  std::vector<ClientTally> tallies(static_cast<size_t>(options.clients));
  std::vector<std::thread> threads;
  for (ClientTally& tally : tallies) {
    threads.emplace_back([&options, &tally, measure_from, measure_until] {
      tally = RunOneClient(options, measure_from, measure_until);
    });
  }
  for (std::thread& thread : threads) thread.join();

  LoadResult result;
  std::vector<absl::Duration> latencies;
  for (ClientTally& tally : tallies) {
    result.failures += tally.failures;
    if (result.first_error.empty()) result.first_error = tally.first_error;
    latencies.insert(latencies.end(), tally.latencies.begin(), tally.latencies.end());
  }
  std::sort(latencies.begin(), latencies.end());
  result.successes = static_cast<int64_t>(latencies.size());
  result.requests_per_second =
      static_cast<double>(result.successes) / absl::ToDoubleSeconds(options.duration);
  result.p50_latency = Percentile(latencies, 0.50);
  result.p99_latency = Percentile(latencies, 0.99);
  return result;
}

absl::StatusOr<inference::ModelStatistics> FetchModelStatistics(const std::string& address,
                                                                const std::string& model) {
  auto stub = NewStub(address);
  grpc::ClientContext context;
  transport::SetTimeout(context, absl::Seconds(30));
  inference::ModelStatisticsRequest request;
  request.set_name(model);
  inference::ModelStatisticsResponse response;
  const grpc::Status status = stub->ModelStatistics(&context, request, &response);
  if (!status.ok()) {
    return transport::FromGrpc(status, absl::StrCat("ModelStatistics(", model, ")"));
  }
  if (response.model_stats_size() == 0) {
    return absl::NotFoundError(absl::StrCat("no statistics for model ", model));
  }
  return response.model_stats(response.model_stats_size() - 1);
}

absl::Duration ExecutionTimePerInference(const inference::ModelStatistics& delta) {
  if (delta.inference_count() == 0) return absl::ZeroDuration();
  int64_t ns = 0;
  for (const auto& batch : delta.batch_stats()) {
    ns += batch.compute_input().ns() + batch.compute_infer().ns() + batch.compute_output().ns();
  }
  return absl::Nanoseconds(ns) / static_cast<int64_t>(delta.inference_count());
}

}  // namespace sonic::bench
