// Scenario "dynamic_batching": 16 concurrent clients send batch-1
// requests for an MLP to sonic-server, to the same model with dynamic batching on and off, and
// the same model runs in-process at batch 16 through the same backend code path. Reports
// throughput batching-on / batching-off (target >= 3) and batching-on / in-process batch 16
// (target >= 0.7), latencies, the batch sizes the server executed and where the server's time
// went (queue vs compute, from ModelStatistics).
//
// Exits 0 whenever it ran, whether or not targets were met (a benchmark is not a test); 1 when
// it could not run; 77 (CTest's "skipped") when built without LibTorch.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench_report.h"
#include "client_load.h"
#include "direct_inference.h"
#include "server_process.h"
#include "server_statistics.h"
#include "sonic/common/status.h"
#include "torch_mlp.h"

namespace sonic::bench {
namespace {

constexpr int kMaxBatch = 16;
constexpr uint64_t kModelSeed = 20240611;
constexpr char kBatched[] = "mlp_batched";
constexpr char kSingle[] = "mlp_single";

struct Flags {
  double duration_s = 5;
  int clients = 16;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
  int queue_delay_us = 10000;  // batches of 16 fill within it even on a loaded 2-core machine
  int intra_op_threads = 1;
};

struct Plan {
  std::vector<int64_t> layers;
  absl::Duration warmup;
  absl::Duration duration;
};

Plan MakePlan(const Flags& flags) {
  if (flags.quick) return {{16, 32, 4}, absl::Milliseconds(200), absl::Seconds(1)};
  const absl::Duration duration = absl::Seconds(flags.duration_s);
  return {{256, 1024, 1024, 10}, std::min(absl::Seconds(1), duration / 5), duration};
}

std::string ModelConfig(const std::string& name, const Plan& plan, const Flags& flags,
                        bool batching) {
  std::string config = absl::StrCat(
      "name: \"", name, "\"\nbackend: \"pytorch\"\nmax_batch_size: ", kMaxBatch,
      "\ninput { name: \"INPUT__0\" data_type: TYPE_FP32 dims: [ ", plan.layers.front(),
      " ] }\noutput { name: \"OUTPUT__0\" data_type: TYPE_FP32 dims: [ ", plan.layers.back(),
      " ] }\ninstance_group { count: 1 kind: KIND_CPU }\n",
      "parameters { key: \"INTRA_OP_THREAD_COUNT\" value { string_value: \"",
      flags.intra_op_threads, "\" } }\n");
  if (batching) {
    absl::StrAppend(&config, "dynamic_batching { preferred_batch_size: [ ", kMaxBatch,
                    " ] max_queue_delay_microseconds: ", flags.queue_delay_us, " }\n");
  }
  return config;
}

absl::Status WriteRepository(const std::filesystem::path& repository, const Plan& plan,
                             const Flags& flags) {
  const std::filesystem::path model = repository / kBatched / "1" / "model.pt";
  SONIC_RETURN_IF_ERROR(testing::WriteTorchMlp(model, plan.layers, kModelSeed));
  std::error_code error;
  std::filesystem::create_directories(repository / kSingle / "1", error);
  std::filesystem::copy_file(model, repository / kSingle / "1" / "model.pt", error);
  if (error) return absl::InternalError(absl::StrCat("cannot copy the model: ", error.message()));
  for (auto [name, batching] : {std::pair{kBatched, true}, {kSingle, false}}) {
    std::ofstream out(repository / name / "config.pbtxt");
    out << ModelConfig(name, plan, flags, batching);
    if (!out) return absl::InternalError(absl::StrCat("cannot write the config of ", name));
  }
  return absl::OkStatus();
}

// Deterministic inputs in [-1, 1).
std::vector<float> InputValues(int64_t count) {
  std::vector<float> values(static_cast<size_t>(count));
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(i % 97) / 48.5f - 1.0f;
  }
  return values;
}

inference::ModelInferRequest BatchOneRequest(const std::string& model, int64_t input_size) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* input = request.add_inputs();
  input->set_name("INPUT__0");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(input_size);
  request.add_outputs()->set_name("OUTPUT__0");
  const std::vector<float> values = InputValues(input_size);
  request.add_raw_input_contents(reinterpret_cast<const char*>(values.data()),
                                 values.size() * sizeof(float));
  return request;
}

struct ServerPhase {
  LoadResult load;
  inference::ModelStatistics stats;  // Over the load (warm-up included).
};

absl::StatusOr<ServerPhase> MeasureThroughServer(const std::string& address,
                                                 const std::string& model, const Plan& plan,
                                                 const Flags& flags) {
  LoadOptions options;
  options.address = address;
  options.request = BatchOneRequest(model, plan.layers.front());
  options.clients = flags.clients;
  options.warmup = plan.warmup;
  options.duration = plan.duration;
  SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics before, FetchModelStatistics(address, model));
  ServerPhase phase;
  SONIC_ASSIGN_OR_RETURN(phase.load, RunClientLoad(options));
  SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics after, FetchModelStatistics(address, model));
  phase.stats = tools::StatisticsDelta(before, after);
  if (phase.load.successes == 0) {
    return absl::InternalError(
        absl::StrCat("no request to ", model, " succeeded: ", phase.load.first_error));
  }
  return phase;
}

absl::StatusOr<DirectResult> MeasureInProcess(const std::filesystem::path& repository,
                                              const Plan& plan, int64_t batch) {
  DirectOptions options;
  options.model_dir = repository / kSingle;
  const std::vector<float> values = InputValues(batch * plan.layers.front());
  DirectInput input{"INPUT__0", DataType::kFp32, {batch, plan.layers.front()}, {}};
  const auto* bytes = reinterpret_cast<const std::byte*>(values.data());
  input.bytes.assign(bytes, bytes + values.size() * sizeof(float));
  options.inputs.push_back(std::move(input));
  options.outputs = {"OUTPUT__0"};
  options.warmup = plan.warmup;
  options.duration = plan.duration;
  return RunDirectInference(options);
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double PerCount(const inference::StatisticDuration& d) {
  return d.count() == 0 ? 0 : static_cast<double>(d.ns()) / 1e3 / static_cast<double>(d.count());
}

// Batch sizes executed, and where the server's time went, for one phase.
void ReportServerPhase(BenchReport& report, const std::string& label, const std::string& key,
                       const ServerPhase& phase) {
  const inference::ModelStatistics& s = phase.stats;
  const inference::InferStatistics& i = s.inference_stats();
  std::vector<std::pair<std::string, double>> sizes;
  for (const auto& batch : s.batch_stats()) {
    if (batch.compute_infer().count() == 0) continue;
    sizes.emplace_back(absl::StrCat(batch.batch_size()),
                       static_cast<double>(batch.compute_infer().count()));
  }
  report.AddTable(absl::StrCat("executions_per_batch_size_", key), std::move(sizes));
  report.AddTable(absl::StrCat("server_time_us_", key),
                  {{"queue_per_request", PerCount(i.queue())},
                   {"compute_input_per_execution", PerCount(i.compute_input())},
                   {"compute_infer_per_execution", PerCount(i.compute_infer())},
                   {"compute_output_per_execution", PerCount(i.compute_output())},
                   {"success_per_request", PerCount(i.success())}});
  report.AddInfo(absl::StrCat("mean batch size, ", label),
                 s.execution_count() == 0 ? 0
                                          : static_cast<double>(s.inference_count()) /
                                                static_cast<double>(s.execution_count()),
                 "requests");
  report.AddInfo(absl::StrCat("p50 latency, ", label), Ms(phase.load.p50_latency), "ms");
  report.AddInfo(absl::StrCat("p99 latency, ", label), Ms(phase.load.p99_latency), "ms");
  report.AddInfo(absl::StrCat("failed requests, ", label), static_cast<double>(phase.load.failures),
                 "requests");
}

void AddNotes(BenchReport& report, const Plan& plan, const Flags& flags) {
  report.AddNote("model",
                 absl::StrCat("TorchScript MLP ", absl::StrJoin(plan.layers, " -> "),
                              " FP32 (Linear+ReLU, last layer linear), seed ", kModelSeed));
  report.AddNote("clients", absl::StrCat(flags.clients,
                                         " closed-loop gRPC clients (own channel each), batch 1"));
  report.AddNote("configs",
                 absl::StrCat(kBatched, ": max_batch_size ", kMaxBatch,
                              ", dynamic_batching preferred_batch_size [", kMaxBatch,
                              "] max_queue_delay_microseconds ", flags.queue_delay_us, "; ",
                              kSingle, ": same, no dynamic_batching; one CPU instance each"));
  report.AddNote("threads",
                 absl::StrCat("INTRA_OP_THREAD_COUNT ", flags.intra_op_threads,
                              " for the server's models and the in-process run alike: clients, "
                              "gRPC and LibTorch share the machine's cores, and the in-process "
                              "floor must use the same LibTorch threads to be comparable"));
  report.AddNote("in_process", absl::StrCat("batch ", kMaxBatch,
                                            " through server::LocalModel (the server's "
                                            "execution path), one instance, on its own "
                                            "thread"));
  report.AddNote("timing", absl::StrCat("each phase: ", absl::FormatDuration(plan.warmup),
                                        " warm-up then ", absl::FormatDuration(plan.duration),
                                        " measured; phases run one after another"));
  report.AddNote("quick",
                 flags.quick ? "true (smoke run: tiny model, figures meaningless)" : "false");
}

absl::Status Run(const Flags& flags) {
  const Plan plan = MakePlan(flags);
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
  const std::filesystem::path repository = dir->path() / "models";
  SONIC_RETURN_IF_ERROR(WriteRepository(repository, plan, flags));
  BenchReport report("dynamic_batching");
  AddNotes(report, plan, flags);
  report.AddNote("load_average_before", ReadLoadAverage());
  SONIC_ASSIGN_OR_RETURN(auto server, StartServer(repository));
  SONIC_ASSIGN_OR_RETURN(ServerPhase on,
                         MeasureThroughServer(server->address(), kBatched, plan, flags));
  SONIC_ASSIGN_OR_RETURN(ServerPhase off,
                         MeasureThroughServer(server->address(), kSingle, plan, flags));
  SONIC_ASSIGN_OR_RETURN(DirectResult direct, MeasureInProcess(repository, plan, kMaxBatch));
  SONIC_ASSIGN_OR_RETURN(DirectResult direct_one, MeasureInProcess(repository, plan, 1));
  report.AddNote("load_average_after", ReadLoadAverage());
  const double on_rps = on.load.requests_per_second;
  report.AddRatio("throughput, batching on / off", on_rps, "infer/s", "batching off",
                  off.load.requests_per_second, 3.0);
  report.AddRatio("throughput, batching on / in-process b16", on_rps, "infer/s",
                  absl::StrCat("in-process batch ", kMaxBatch), direct.inferences_per_second, 0.7);
  ReportServerPhase(report, "batching on", "batching_on", on);
  ReportServerPhase(report, "batching off", "batching_off", off);
  report.AddInfo("p50 execution, in-process b16", Ms(direct.p50_latency), "ms");
  // What batching can gain in compute alone: the ceiling of the on/off ratio on this machine.
  report.AddInfo("in-process throughput b16 / b1",
                 direct.inferences_per_second / std::max(direct_one.inferences_per_second, 1e-9),
                 "ratio");
  report.AddInfo("p50 execution, in-process b1", Ms(direct_one.p50_latency), "ms");
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/dynamic_batching.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Dynamic batching benchmark: sonic-server with batching on/off vs in-process");
  app.add_option("--duration-s", flags.duration_s, "Measured seconds per phase")
      ->check(CLI::PositiveNumber);
  app.add_option("--clients", flags.clients, "Concurrent clients")->check(CLI::Range(1, 1024));
  app.add_flag("--quick", flags.quick, "Tiny model, 1 s per phase (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for dynamic_batching.json");
  app.add_option("--queue-delay-us", flags.queue_delay_us, "max_queue_delay_microseconds")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--intra-op-threads", flags.intra_op_threads, "INTRA_OP_THREAD_COUNT")
      ->check(CLI::Range(1, 4096));
  CLI11_PARSE(app, argc, argv);
  if (!SONIC_BENCH_WITH_TORCH) {
    std::cerr << "skipped: built without LibTorch\n";
    return 77;
  }
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "dynamic_batching benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
