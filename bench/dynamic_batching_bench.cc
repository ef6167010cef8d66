// Scenario "dynamic_batching": 16 concurrent clients send batch-1
// requests for an MLP to sonic-server, to the same model with dynamic batching on and off, and
// the same model runs in-process at batch 16 through the same backend code path. The model is
// "a 2 ms model" read as one whose single request (batch 1) executes in about 2 ms in-process
// with one LibTorch thread: by default the MLP 256 -> 1664 -> 1664 -> 10, measured on the
// 2-core development machine (AMD EPYC) at 1.7-2.1 ms p50 for batch 1 and 2.7-3.4 ms for batch
// 16 (its weights, 11 MB, are read once per execution whatever the batch). --execution-widths
// measures other widths; --hidden-width picks one. Reports
// throughput batching-on / batching-off (target >= 3) and batching-on / in-process batch 16
// (target >= 0.7), latencies, the batch sizes the server executed, where the server's time
// went (queue vs compute, from ModelStatistics) and the CPU time per request of the server and
// the clients. Beside them, a model with the same inputs and outputs and almost no compute,
// batched alike: its throughput is the request path's ceiling on this machine. As every client
// waits on its batch, a cycle is compute then round trips, in series, so batching on / in-process
// cannot exceed r / (1 + r) for r = that model's throughput / in-process batch 16 (reported as
// an information row). The sides take turns in short windows (interleaved_load.h).
//
// Exits 0 whenever it ran, whether or not targets were met (a benchmark is not a test); 1 when
// it could not run; 77 (CTest's "skipped") when built without LibTorch.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench_report.h"
#include "client_load.h"
#include "direct_inference.h"
#include "grpc_call.h"
#include "interleaved_load.h"
#include "server_process.h"
#include "server_statistics.h"
#include "sonic/common/status.h"
#include "torch_mlp.h"

namespace sonic::bench {
namespace {

constexpr int kMaxBatch = 16;
// The target of batching on / in-process batch kMaxBatch.
constexpr double kInProcessTarget = 0.7;
constexpr uint64_t kModelSeed = 20240611;
constexpr char kBatched[] = "mlp_batched";
constexpr char kSingle[] = "mlp_single";
// The same inputs and outputs through the same backend, batched alike, with almost no compute
// (one small linear layer): what the request path alone allows.
constexpr char kFloor[] = "mlp_floor";

struct Flags {
  double duration_s = 5;
  int clients = 16;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
  int queue_delay_us = 10000;  // batches of 16 fill within it even on a loaded 2-core machine
  int intra_op_threads = 1;
  int64_t hidden_width = 1664;  // of the MLP's two hidden layers: batch 1 in about 2 ms
  // Non-empty: only measure the in-process execution time at batch 1 and kMaxBatch of the MLP
  // with each of these hidden widths, print it and exit (how the default width was chosen).
  std::vector<int64_t> execution_widths;
};

struct Plan {
  std::vector<int64_t> layers;
  std::vector<int64_t> floor_layers() const { return {layers.front(), layers.back()}; }
  absl::Duration window;  // One side's turn.
  int rounds;             // Measured rounds, after one of warm-up.
};

Plan MakePlan(const Flags& flags) {
  if (flags.quick) return {{16, 32, 4}, absl::Milliseconds(100), 1};
  const absl::Duration window = absl::Seconds(1);
  return {{256, flags.hidden_width, flags.hidden_width, 10},
          window,
          std::max(1, static_cast<int>(absl::Seconds(flags.duration_s) / window))};
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
  SONIC_RETURN_IF_ERROR(testing::WriteTorchMlp(repository / kFloor / "1" / "model.pt",
                                               plan.floor_layers(), kModelSeed));
  std::error_code error;
  std::filesystem::create_directories(repository / kSingle / "1", error);
  std::filesystem::copy_file(model, repository / kSingle / "1" / "model.pt", error);
  if (error) return absl::InternalError(absl::StrCat("cannot copy the model: ", error.message()));
  for (auto [name, batching] : {std::pair{kBatched, true}, {kSingle, false}, {kFloor, true}}) {
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
  SideResult load;
  inference::ModelStatistics stats;  // Over the whole run (warm-up included).
};

// A side whose clients each send the batch-1 request to `model` on `server`, blocking.
LoadSide ServerSide(const std::string& name, const testing::ServerProcess& server,
                    const std::string& model, const Plan& plan) {
  auto make = [&server, model, input_size = plan.layers.front()]() -> absl::StatusOr<RoundTrip> {
    std::shared_ptr<inference::GRPCInferenceService::Stub> stub =
        inference::GRPCInferenceService::NewStub(NewChannel(server.address()));
    auto request =
        std::make_shared<inference::ModelInferRequest>(BatchOneRequest(model, input_size));
    auto response = std::make_shared<inference::ModelInferResponse>();
    RoundTrip round_trip = [stub, request, response]() -> absl::Status {
      grpc::ClientContext context;
      transport::SetTimeout(context, absl::Seconds(30));
      SONIC_RETURN_IF_ERROR(
          transport::FromGrpc(stub->ModelInfer(&context, *request, response.get())));
      if (response->raw_output_contents_size() != 1) {
        return absl::InternalError("the response has no raw output");
      }
      return absl::OkStatus();
    };
    return round_trip;
  };
  return {name, make, server.pid()};
}

// One execution of a batch of `batch` of kSingle in this process (server::LocalModel, the
// server's execution path) per round trip; one client, so one execution at a time as on one
// instance.
absl::StatusOr<LoadSide> InProcessSide(const std::string& name,
                                       const std::filesystem::path& repository, const Plan& plan,
                                       int64_t batch) {
  DirectOptions options;
  options.model_dir = repository / kSingle;
  const std::vector<float> values = InputValues(batch * plan.layers.front());
  DirectInput input{"INPUT__0", DataType::kFp32, {batch, plan.layers.front()}, {}};
  const auto* bytes = reinterpret_cast<const std::byte*>(values.data());
  input.bytes.assign(bytes, bytes + values.size() * sizeof(float));
  options.inputs.push_back(std::move(input));
  options.outputs = {"OUTPUT__0"};
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<DirectModel> loaded, DirectModel::Load(options));
  std::shared_ptr<DirectModel> model = std::move(loaded);
  auto make = [model]() -> absl::StatusOr<RoundTrip> {
    return RoundTrip([model] { return model->ExecuteOnce(); });
  };
  LoadSide side{name, make, 0};
  side.clients = 1;
  return side;
}

// Batching on / in-process batch 16 when the batch computes as fast as in-process and the
// request phase lasts as long as a cycle of the no-compute model, `floor_ratio` being that
// model's throughput over in-process batch 16: E / (E + E / floor_ratio) for an execution time E.
double SerialCeiling(double floor_ratio) { return floor_ratio / (1 + floor_ratio); }

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
                              " FP32 (Linear+ReLU, last layer linear), seed ", kModelSeed,
                              flags.hidden_width == Flags{}.hidden_width && !flags.quick
                                  ? "; the default width executes batch 1 in about 2 ms on "
                                    "the development machine (a 2 ms model)"
                                  : ""));
  report.AddNote("clients", absl::StrCat(flags.clients,
                                         " closed-loop gRPC clients (own channel and thread "
                                         "each, blocking calls), batch 1"));
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
  report.AddNote(
      "no_compute_model",
      absl::StrCat(kFloor, ": TorchScript linear ", absl::StrJoin(plan.floor_layers(), " -> "),
                   ", configured as ", kBatched, ": the request path's ceiling on this machine. ",
                   "Every client waits on its batch, so compute and round trips cannot overlap: "
                   "batching on / in-process b16 is at most r / (1 + r) for r = no-compute model "
                   "/ in-process b16 (the row 'ceiling, batching on / in-process b16'); ",
                   kInProcessTarget, " needs r >= ",
                   absl::StrFormat("%.2f", kInProcessTarget / (1 - kInProcessTarget))));
  report.AddNote("in_process", absl::StrCat("batch ", kMaxBatch, " (and 1) of ", kSingle,
                                            " through server::LocalModel (the server's "
                                            "execution path) in the benchmark's process, one "
                                            "execution at a time"));
  report.AddNote(
      "timing",
      absl::StrCat("the five sides take turns in windows of ", absl::FormatDuration(plan.window),
                   " (each side right after each side equally often: interleaved_load.h), ",
                   "one warm-up round then ", plan.rounds,
                   " measured (rounded up to a multiple of five), so that load from elsewhere "
                   "and what ran just before hit every side alike"));
  report.AddNote("quick",
                 flags.quick ? "true (smoke run: tiny model, figures meaningless)" : "false");
}

// The statistics of `model` since `before`.
absl::StatusOr<inference::ModelStatistics> Statistics(const std::string& address,
                                                      const std::string& model,
                                                      const inference::ModelStatistics& before) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics after, FetchModelStatistics(address, model));
  return tools::StatisticsDelta(before, after);
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
  std::vector<LoadSide> sides = {ServerSide("batching on", *server, kBatched, plan),
                                 ServerSide("batching off", *server, kSingle, plan),
                                 ServerSide("no-compute model", *server, kFloor, plan)};
  SONIC_ASSIGN_OR_RETURN(LoadSide b16,
                         InProcessSide("in-process b16", repository, plan, kMaxBatch));
  SONIC_ASSIGN_OR_RETURN(LoadSide b1, InProcessSide("in-process b1", repository, plan, 1));
  sides.push_back(std::move(b16));
  sides.push_back(std::move(b1));
  std::vector<inference::ModelStatistics> before;
  for (const char* model : {kBatched, kSingle, kFloor}) {
    SONIC_ASSIGN_OR_RETURN(before.emplace_back(), FetchModelStatistics(server->address(), model));
  }
  InterleavedOptions options;
  options.clients = flags.clients;
  options.window = plan.window;
  options.rounds = plan.rounds;
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> r, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, r));
  report.AddNote("load_average_after", ReadLoadAverage());
  std::vector<ServerPhase> phases;
  for (size_t i = 0; i < before.size(); ++i) {
    SONIC_ASSIGN_OR_RETURN(
        inference::ModelStatistics delta,
        Statistics(server->address(), std::vector{kBatched, kSingle, kFloor}[i], before[i]));
    phases.push_back({r[i], std::move(delta)});
  }
  const ServerPhase &on = phases[0], &off = phases[1], &floor = phases[2];
  const double b16_ips = r[3].requests_per_second * kMaxBatch;
  const double b1_ips = r[4].requests_per_second;
  report.AddRatio("throughput, batching on / off", on.load.requests_per_second, "infer/s",
                  "batching off", off.load.requests_per_second, 3.0);
  report.AddRatio("throughput, batching on / in-process b16", on.load.requests_per_second,
                  "infer/s", absl::StrCat("in-process batch ", kMaxBatch), b16_ips,
                  kInProcessTarget);
  ReportServerPhase(report, "batching on", "batching_on", on);
  ReportServerPhase(report, "batching off", "batching_off", off);
  report.AddInfo("p50 execution, in-process b16", Ms(r[3].p50_latency), "ms");
  // What batching can gain in compute alone: the ceiling of the on/off ratio on this machine.
  report.AddInfo("in-process throughput b16 / b1", b16_ips / std::max(b1_ips, 1e-9), "ratio");
  report.AddInfo("p50 execution, in-process b1", Ms(r[4].p50_latency), "ms");
  // The request path's own ceiling: batching on / in-process b16 cannot exceed this ratio.
  report.AddInfo("throughput, no-compute model (batching on)", floor.load.requests_per_second,
                 "infer/s");
  const double floor_ratio = floor.load.requests_per_second / std::max(b16_ips, 1e-9);
  report.AddInfo("no-compute model (batching on) / in-process b16", floor_ratio, "ratio");
  report.AddInfo("ceiling, batching on / in-process b16", SerialCeiling(floor_ratio),
                 "ratio");
  report.AddInfo("mean batch size, no-compute model",
                 floor.stats.execution_count() == 0
                     ? 0
                     : static_cast<double>(floor.stats.inference_count()) /
                           static_cast<double>(floor.stats.execution_count()),
                 "requests");
  report.AddTable("cpu_us_per_request",
                  {{"server_batching_on", on.load.ServerCpuUsPerRequest()},
                   {"client_batching_on", on.load.ClientCpuUsPerRequest()},
                   {"server_batching_off", off.load.ServerCpuUsPerRequest()},
                   {"client_batching_off", off.load.ClientCpuUsPerRequest()},
                   {"server_no_compute", floor.load.ServerCpuUsPerRequest()},
                   {"client_no_compute", floor.load.ClientCpuUsPerRequest()}});
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/dynamic_batching.json\n";
  return written;
}

// For each width, the MLP's in-process execution at batch 1 and kMaxBatch, taking turns in
// short windows; prints the p50 of each execution.
absl::Status MeasureExecution(const Flags& flags) {
  std::cout << "hidden width | p50 execution b1 (ms) | p50 execution b" << kMaxBatch
            << " (ms)\n";
  for (int64_t width : flags.execution_widths) {
    Flags sized = flags;
    sized.hidden_width = width;
    sized.quick = false;  // the quick plan's tiny model has no hidden width
    const Plan plan = MakePlan(sized);
    SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
    const std::filesystem::path repository = dir->path() / "models";
    SONIC_RETURN_IF_ERROR(WriteRepository(repository, plan, sized));
    std::vector<LoadSide> sides;
    for (int64_t batch : {int64_t{1}, int64_t{kMaxBatch}}) {
      SONIC_ASSIGN_OR_RETURN(
          sides.emplace_back(),
          InProcessSide(absl::StrCat("in-process b", batch), repository, plan, batch));
    }
    InterleavedOptions options;
    options.window = absl::Milliseconds(500);
    options.rounds = std::max(1, static_cast<int>(flags.duration_s));
    SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> r, RunInterleaved(options, sides));
    SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, r));
    std::cout << width << " | " << Ms(r[0].p50_latency) << " | " << Ms(r[1].p50_latency) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Dynamic batching benchmark: sonic-server with batching on/off vs in-process");
  app.add_option("--duration-s", flags.duration_s,
                 "Measured seconds per side (1 s windows, at least one)")
      ->check(CLI::PositiveNumber);
  app.add_option("--clients", flags.clients, "Concurrent clients")->check(CLI::Range(1, 1024));
  app.add_flag("--quick", flags.quick, "Tiny model, 1 s per phase (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for dynamic_batching.json");
  app.add_option("--queue-delay-us", flags.queue_delay_us, "max_queue_delay_microseconds")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--hidden-width", flags.hidden_width,
                 "Width of the MLP's two hidden layers (the compute per batch; the default 1664 "
                 "executes batch 1 in about 2 ms on the development machine)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--intra-op-threads", flags.intra_op_threads, "INTRA_OP_THREAD_COUNT")
      ->check(CLI::Range(1, 4096));
  app.add_option("--execution-widths", flags.execution_widths,
                 "Only measure the in-process execution time at batch 1 and 16 of the MLP with "
                 "each of these hidden widths (rounds of 0.5 s windows: --duration-s) and exit")
      ->delimiter(',')
      ->check(CLI::Range(1, 65536));
  CLI11_PARSE(app, argc, argv);
  if (!SONIC_BENCH_WITH_TORCH) {
    std::cerr << "skipped: built without LibTorch\n";
    return 77;
  }
  const absl::Status status = flags.execution_widths.empty()
                                  ? sonic::bench::Run(flags)
                                  : sonic::bench::MeasureExecution(flags);
  if (!status.ok()) {
    std::cerr << "dynamic_batching benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
