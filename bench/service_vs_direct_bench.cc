// Scenario "service_vs_direct": what running a model as a service costs against
// running it in the job's own process with the same threads (the compute floor). The
// demonstrator's models (model_zoo.h: pytorch backend, one CPU instance, one LibTorch thread) at
// batch 64 on realistic ttbar inputs: ParticleNet-like on 64 AK4 jets, padded (one rectangular
// request) and ragged (one request per jet, joined by the server's ragged batcher), and
// DeepMET-like on 64 events' PF candidates (one ragged request per event). Through sonic-server
// with TritonClient (SonicEngine), shared memory off and auto, beside the same batch in-process
// through the server's execution path (DirectEngine over LocalModel) on one thread; the three
// take turns in short windows (interleaved_load.h). Reports throughput server / in-process
// (target >= 0.9 each), latencies, CPU per batch and where the server's time went
// (ModelStatistics).
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_report.h"
#include "client_load.h"
#include "demo_workload.h"
#include "demonstrator/ml/direct_engine.h"
#include "demonstrator/ml/sonic_engine.h"
#include "demonstrator/models/model_shapes.h"
#include "demonstrator/models/model_zoo.h"
#include "interleaved_load.h"
#include "server_process.h"
#include "server_statistics.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

constexpr double kTarget = 0.9;  // server / in-process throughput, at least.
constexpr uint64_t kModelSeed = 20240901;
constexpr uint64_t kEventSeed = 8;

struct Flags {
  int batch = 64;
  int batches = 8;
  double window_s = 1.0;
  int rounds = 5;
  int clients = 2;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

// A model and the batches it is measured on (all of one size; distinct events' objects).
struct Workload {
  std::string model;
  std::string output;   // Checked after every batch.
  std::string objects;  // What an entry is: "jets" or "events".
  std::vector<ObjectBatch> batches;
};

std::vector<Workload> Workloads(size_t batch, size_t batches) {
  using namespace demo::models;
  return {
      {std::string(kParticleNetPadded), std::string(kScores), "jets",
       ParticleNetBatches(kEventSeed, batch, batches, /*padded=*/true)},
      {std::string(kParticleNetRagged), std::string(kScores), "jets",
       ParticleNetBatches(kEventSeed, batch, batches, /*padded=*/false)},
      {std::string(kDeepMet), std::string(kMet), "events",
       DeepMetBatches(kEventSeed, batch, batches)},
  };
}

using EngineFactory = std::function<absl::StatusOr<std::unique_ptr<demo::InferenceEngine>>()>;

// A side whose clients are `make_engine`'s engines, each checked on every batch before it counts
// (which also lets LibTorch's graph executor see every shape) and then cycling through them.
LoadSide EngineSide(std::string name, const Workload& workload, int clients, pid_t server_pid,
                    EngineFactory make_engine) {
  auto make = [&workload, make_engine = std::move(make_engine),
               made = size_t{0}]() mutable -> absl::StatusOr<RoundTrip> {
    SONIC_ASSIGN_OR_RETURN(std::shared_ptr<demo::InferenceEngine> engine, make_engine());
    for (const ObjectBatch& batch : workload.batches) {
      SONIC_RETURN_IF_ERROR(RunBatch(*engine, batch, workload.output));
    }
    return CyclingClient(std::move(engine), workload.batches, made++, workload.output);
  };
  return {std::move(name), std::move(make), server_pid, clients};
}

// Server with shared memory off, server with shared memory auto, in-process: in that order.
std::vector<LoadSide> Sides(const Workload& workload, const testing::ServerProcess& server,
                            const std::filesystem::path& repository) {
  std::vector<LoadSide> sides;
  for (auto [label, mode] : {std::pair{"server, shm off", client::SharedMemoryMode::kOff},
                             {"server, shm auto", client::SharedMemoryMode::kAuto}}) {
    client::TritonClient::Options options;
    options.mode = client::SonicMode::kSync;
    options.server_address = server.address();
    options.model_name = workload.model;
    options.shared_memory = mode;
    sides.push_back(EngineSide(label, workload, /*clients=*/0, server.pid(),
                               [options]() -> absl::StatusOr<std::unique_ptr<demo::InferenceEngine>> {
                                 return demo::SonicEngine::Create(options);
                               }));
  }
  const std::filesystem::path model_dir = repository / workload.model;
  sides.push_back(EngineSide("in-process", workload, /*clients=*/1, 0,
                             [model_dir]() -> absl::StatusOr<std::unique_ptr<demo::InferenceEngine>> {
                               return demo::DirectEngine::Create(model_dir);
                             }));
  return sides;
}

struct Measurement {
  std::vector<SideResult> sides;     // As Sides orders them.
  inference::ModelStatistics server;  // Over the server's windows, warm-up included.
};

absl::StatusOr<Measurement> Measure(const Workload& workload, const testing::ServerProcess& server,
                                    const std::filesystem::path& repository,
                                    const InterleavedOptions& options) {
  const std::vector<LoadSide> sides = Sides(workload, server, repository);
  SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics before,
                         FetchModelStatistics(server.address(), workload.model));
  Measurement measurement;
  SONIC_ASSIGN_OR_RETURN(measurement.sides, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, measurement.sides));
  SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics after,
                         FetchModelStatistics(server.address(), workload.model));
  measurement.server = tools::StatisticsDelta(before, after);
  return measurement;
}

double Us(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

void Report(BenchReport& report, const Workload& workload, const Measurement& m) {
  const double entries = static_cast<double>(workload.batches.front().entries);
  const std::string unit = absl::StrCat(workload.objects, "/s");
  const SideResult& direct = m.sides[2];
  const std::string floor = "in-process, 1 thread";
  for (size_t s = 0; s < 2; ++s) {
    const SideResult& side = m.sides[s];
    report.AddRatio(absl::StrCat(workload.model, " throughput, ", s == 0 ? "shm off" : "shm auto",
                                 " / in-process"),
                    side.requests_per_second * entries, unit, floor,
                    direct.requests_per_second * entries, kTarget);
  }
  const tools::ServerBreakdown server = tools::BreakdownOf(m.server);
  const char* labels[] = {"shm_off", "shm_auto", "in_process"};
  for (size_t s = 0; s < m.sides.size(); ++s) {
    report.AddTable(absl::StrCat(workload.model, "_", labels[s]),
                    {{"batches_per_s", m.sides[s].requests_per_second},
                     {"p50_latency_us", Us(m.sides[s].p50_latency)},
                     {"p99_latency_us", Us(m.sides[s].p99_latency)},
                     {"client_cpu_us_per_batch", m.sides[s].ClientCpuUsPerRequest()},
                     {"server_cpu_us_per_batch", m.sides[s].ServerCpuUsPerRequest()}});
  }
  report.AddTable(
      absl::StrCat(workload.model, "_server_time_us_per_request"),
      {{"queue", Us(server.queue)},
       {"compute_input", Us(server.compute_input)},
       {"compute_infer", Us(server.compute_infer)},
       {"compute_output", Us(server.compute_output)},
       {"requests_per_execution", server.execution_count == 0
                                      ? 0
                                      : static_cast<double>(server.request_count) /
                                            static_cast<double>(server.execution_count)},
       {"execution_per_entry", Us(ExecutionTimePerInference(m.server))},
       {"entries_per_execution", server.execution_count == 0
                                     ? 0
                                     : static_cast<double>(server.inference_count) /
                                           static_cast<double>(server.execution_count)}});
  report.AddInfo(absl::StrCat(workload.model, " p50 batch, in-process"), Us(direct.p50_latency),
                 "us");
  report.AddInfo(absl::StrCat(workload.model, " p50 batch, server shm off"),
                 Us(m.sides[0].p50_latency), "us");
  report.AddComparison(absl::StrCat(workload.model, " execution time per ",
                                     workload.objects.substr(0, workload.objects.size() - 1),
                                     ", server / in-process"),
                       Us(ExecutionTimePerInference(m.server)), "us", "in-process p50 / entries",
                       Us(direct.p50_latency) / entries);
}

void AddNotes(BenchReport& report, const Flags& flags, const std::vector<Workload>& workloads,
              const InterleavedOptions& options) {
  report.AddNote("models",
                 absl::StrCat("the demonstrator's model zoo (seed ", kModelSeed,
                              "): pytorch backend, max_batch_size 64, dynamic batching with no "
                              "queue delay, one CPU instance, INTRA_OP_THREAD_COUNT 1"));
  std::string inputs;
  for (const Workload& w : workloads) {
    uint64_t bytes = 0;
    for (const ObjectBatch& batch : w.batches) bytes += InputBytes(batch);
    absl::StrAppend(&inputs, w.model, ": ", w.batches.size(), " batches of ",
                    w.batches.front().entries, " ", w.objects, ", ", bytes / w.batches.size(),
                    " input bytes per batch on average; ");
  }
  report.AddNote("inputs", absl::StrCat(inputs, "from TtbarGenerator(", kEventSeed,
                                        ") events 0, 1, ... (AK4 jets in event order), "
                                        "features as the demonstrator's modules fill them; every "
                                        "client cycles through its model's batches"));
  report.AddNote("threads",
                 absl::StrCat(
                     "same compute threads on both sides: the server's one instance runs one "
                     "LibTorch thread, the in-process floor runs the batch on one thread "
                     "(DirectEngine over server::LocalModel, the server's execution path). The "
                     "server gets ",
                     options.clients,
                     " Sync TritonClients (SonicEngine), so one batch is in flight while the "
                     "instance computes another: the next batch has arrived and been parsed when "
                     "the instance frees up, and the instance never waits for a round trip; with "
                     "one instance more clients would only queue. gRPC and the clients run on "
                     "the machine's other core."));
  report.AddNote("timing", absl::StrCat("per model, shm off / shm auto / in-process alternate in "
                                        "windows of ",
                                        absl::FormatDuration(options.window), ", ",
                                        options.warmup_rounds, " warm-up + ", options.rounds,
                                        " measured rounds (rounded up to a multiple of the "
                                        "sides: interleaved_load.h)"));
  report.AddNote("cpu", "per batch: client = getrusage of the benchmark process (the in-process "
                        "floor's compute included), server = /proc/<pid>/stat of sonic-server");
  report.AddNote("quick", flags.quick ? "true (smoke run: 2 batches of 4, figures meaningless)" : "false");
}

absl::Status Run(const Flags& flags) {
  const std::vector<Workload> workloads =
      Workloads(flags.quick ? 4 : flags.batch, flags.quick ? 2 : flags.batches);
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
  const std::filesystem::path repository = dir->path() / "models";
  SONIC_RETURN_IF_ERROR(demo::models::GenerateModels(repository, kModelSeed));
  SONIC_ASSIGN_OR_RETURN(auto server, StartServer(repository));
  InterleavedOptions options;
  options.clients = flags.clients;
  options.window = flags.quick ? absl::Milliseconds(50) : absl::Seconds(flags.window_s);
  options.rounds = flags.quick ? 1 : flags.rounds;
  BenchReport report("service_vs_direct");
  AddNotes(report, flags, workloads, options);
  report.AddNote("load_average_before", ReadLoadAverage());
  for (const Workload& workload : workloads) {
    SONIC_ASSIGN_OR_RETURN(Measurement measurement,
                           Measure(workload, *server, repository, options));
    Report(report, workload, measurement);
  }
  report.AddNote("load_average_after", ReadLoadAverage());
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/service_vs_direct.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Service vs direct: the demonstrator's models through sonic-server vs in-process");
  app.add_option("--batch", flags.batch, "Jets or events per batch")->check(CLI::Range(1, 64));
  app.add_option("--batches", flags.batches, "Distinct batches per model")
      ->check(CLI::Range(1, 1000));
  app.add_option("--window-s", flags.window_s, "Seconds of one side's turn")
      ->check(CLI::Range(0.01, 60.0));
  app.add_option("--rounds", flags.rounds, "Measured rounds")->check(CLI::Range(1, 1000));
  app.add_option("--clients", flags.clients, "Sync clients (batches in flight) on the server")
      ->check(CLI::Range(1, 64));
  app.add_flag("--quick", flags.quick, "2 batches of 4, one short round (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for service_vs_direct.json");
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "service_vs_direct benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
