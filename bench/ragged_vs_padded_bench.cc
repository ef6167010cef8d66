// Scenario "ragged_vs_padded": what ragged batching saves on realistic jets.
// The same AK4 jets of ttbar-like events, in batches of 64, through the demonstrator's
// ParticleNet-like models on a local sonic-server with TritonClient (SonicEngine, shared memory
// off, as to a remote server): particlenet_padded (100 constituent slots per jet and a mask; one
// rectangular request per batch) and particlenet_ragged (each jet's own constituents, one request
// per jet, joined into one execution by the server's ragged batcher). Reports, ragged against
// padded: the input bytes per jet (tensor contents the requests carry; target at most 1/2.5), the
// bytes on the wire per jet (gRPC messages with their HTTP/2 framing, counted by a relay:
// byte_counting_relay.h; same target) and the throughput in jets/s with the two taking turns in
// short windows (interleaved_load.h; target at least 2), with CPU and server time per jet.
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_report.h"
#include "byte_counting_relay.h"
#include "client_load.h"
#include "demo_workload.h"
#include "demonstrator/ml/sonic_engine.h"
#include "demonstrator/models/model_shapes.h"
#include "demonstrator/models/model_zoo.h"
#include "interleaved_load.h"
#include "server_process.h"
#include "server_statistics.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

constexpr double kBytesTarget = 1 / 2.5;    // ragged / padded bytes per jet, at most.
constexpr double kThroughputTarget = 2.0;  // ragged / padded jets/s, at least.
constexpr uint64_t kModelSeed = 20240901;
constexpr uint64_t kEventSeed = 4;

struct Flags {
  int jets_per_batch = 64;
  int batches = 16;
  double window_s = 1.0;
  int rounds = 5;
  int clients = 2;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

// One of the two models and the same jets as it takes them.
struct Variant {
  std::string name;   // "padded" or "ragged".
  std::string model;
  std::vector<ObjectBatch> batches;
};

std::vector<Variant> Variants(const Flags& flags) {
  const size_t per_batch = flags.quick ? 4 : static_cast<size_t>(flags.jets_per_batch);
  const size_t batches = flags.quick ? 2 : static_cast<size_t>(flags.batches);
  using namespace demo::models;
  return {{"padded", std::string(kParticleNetPadded),
           ParticleNetBatches(kEventSeed, per_batch, batches, /*padded=*/true)},
          {"ragged", std::string(kParticleNetRagged),
           ParticleNetBatches(kEventSeed, per_batch, batches, /*padded=*/false)}};
}

size_t Jets(const Variant& variant) {
  size_t jets = 0;
  for (const ObjectBatch& batch : variant.batches) jets += batch.entries;
  return jets;
}

absl::StatusOr<std::unique_ptr<demo::SonicEngine>> NewEngine(const std::string& address,
                                                              const Variant& variant) {
  client::TritonClient::Options options;
  options.mode = client::SonicMode::kSync;
  options.server_address = address;
  options.model_name = variant.model;
  // The tensors must travel in the messages for their bytes to count.
  options.shared_memory = client::SharedMemoryMode::kOff;
  return demo::SonicEngine::Create(options);
}

// Sends every batch once, in order.
absl::Status SendAll(demo::InferenceEngine& engine, const Variant& variant) {
  for (const ObjectBatch& batch : variant.batches) {
    SONIC_RETURN_IF_ERROR(RunBatch(engine, batch, demo::models::kScores));
  }
  return absl::OkStatus();
}

struct WireBytes {
  double sent_per_jet = 0;
  double received_per_jet = 0;
  double requests_per_jet = 0;  // ModelInfer RPCs.
};

// Every batch once through a counting relay, after a warm-up pass (connection setup, HTTP/2
// header tables).
absl::StatusOr<WireBytes> MeasureWireBytes(const testing::ServerProcess& server,
                                           const Variant& variant) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<ByteCountingRelay> relay,
                         ByteCountingRelay::Start(server.port()));
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<demo::SonicEngine> engine,
                         NewEngine(relay->address(), variant));
  SONIC_RETURN_IF_ERROR(SendAll(*engine, variant));
  const uint64_t sent = relay->client_to_server_bytes();
  const uint64_t received = relay->server_to_client_bytes();
  size_t requests = 0;
  for (const ObjectBatch& batch : variant.batches) {
    SONIC_RETURN_IF_ERROR(RunBatch(*engine, batch, demo::models::kScores));
    requests += engine->client().lastRequestCount();
  }
  const double jets = static_cast<double>(Jets(variant));
  return WireBytes{static_cast<double>(relay->client_to_server_bytes() - sent) / jets,
                   static_cast<double>(relay->server_to_client_bytes() - received) / jets,
                   static_cast<double>(requests) / jets};
}

// Each client cycles through the batches from a starting batch of its own.
LoadSide Side(const testing::ServerProcess& server, const Variant& variant) {
  auto make = [&server, &variant, clients = size_t{0}]() mutable -> absl::StatusOr<RoundTrip> {
    SONIC_ASSIGN_OR_RETURN(std::shared_ptr<demo::SonicEngine> engine,
                           NewEngine(server.address(), variant));
    SONIC_RETURN_IF_ERROR(SendAll(*engine, variant));
    return CyclingClient(std::move(engine), variant.batches, clients++, demo::models::kScores);
  };
  return {variant.name, std::move(make), server.pid()};
}

struct VariantFigures {
  double input_bytes_per_jet = 0;
  WireBytes wire;
  SideResult load;
  // Over the interleaved load, warm-up included.
  tools::ServerBreakdown server;
  absl::Duration execution_per_jet;  // ExecutionTimePerInference.
};

double Us(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

double JetsPerExecution(const tools::ServerBreakdown& s) {
  return s.execution_count == 0
             ? 0
             : static_cast<double>(s.inference_count) / static_cast<double>(s.execution_count);
}

void Report(BenchReport& report, const std::vector<Variant>& variants,
            const std::vector<VariantFigures>& figures) {
  const VariantFigures& padded = figures[0];
  const VariantFigures& ragged = figures[1];
  const double jets_per_batch = static_cast<double>(variants[0].batches.front().entries);
  report.AddRatio("input bytes per jet, ragged / padded", ragged.input_bytes_per_jet, "bytes",
                  "padded", padded.input_bytes_per_jet, kBytesTarget, /*higher_is_better=*/false);
  report.AddRatio("bytes sent per jet on the wire, ragged / padded", ragged.wire.sent_per_jet,
                  "bytes", "padded", padded.wire.sent_per_jet, kBytesTarget,
                  /*higher_is_better=*/false);
  report.AddRatio("throughput, ragged / padded", ragged.load.requests_per_second * jets_per_batch,
                  "jets/s", "padded", padded.load.requests_per_second * jets_per_batch,
                  kThroughputTarget);
  report.AddComparison("bytes received per jet on the wire, ragged / padded",
                       ragged.wire.received_per_jet, "bytes", "padded",
                       padded.wire.received_per_jet);
  report.AddComparison("server execution time per jet, ragged / padded",
                       Us(ragged.execution_per_jet), "us", "padded",
                       Us(padded.execution_per_jet));
  for (size_t v = 0; v < variants.size(); ++v) {
    const VariantFigures& f = figures[v];
    const tools::ServerBreakdown& s = f.server;
    report.AddTable(
        variants[v].name,
        {{"input_bytes_per_jet", f.input_bytes_per_jet},
         {"wire_bytes_sent_per_jet", f.wire.sent_per_jet},
         {"wire_bytes_received_per_jet", f.wire.received_per_jet},
         {"requests_per_jet", f.wire.requests_per_jet},
         {"jets_per_s", f.load.requests_per_second * jets_per_batch},
         {"p50_batch_latency_us", Us(f.load.p50_latency)},
         {"client_cpu_us_per_jet", f.load.ClientCpuUsPerRequest() / jets_per_batch},
         {"server_cpu_us_per_jet", f.load.ServerCpuUsPerRequest() / jets_per_batch},
         {"server_queue_us_per_request", Us(s.queue)},
         {"server_compute_input_us_per_request", Us(s.compute_input)},
         {"server_compute_infer_us_per_request", Us(s.compute_infer)},
         {"server_compute_output_us_per_request", Us(s.compute_output)},
         {"server_execution_us_per_jet", Us(f.execution_per_jet)},
         {"server_jets_per_execution", JetsPerExecution(s)}});
  }
}

// Mean and maximum constituents per jet (the ragged inputs' first dimension).
std::pair<double, int64_t> Constituents(const Variant& ragged) {
  int64_t total = 0, most = 0;
  for (const ObjectBatch& batch : ragged.batches) {
    for (const demo::NamedInput& input : batch.inputs) {
      if (input.name != demo::models::kPfPoints) continue;
      for (const Shape& shape : input.shapes) {
        total += shape.front();
        most = std::max(most, shape.front());
      }
    }
  }
  return {static_cast<double>(total) / static_cast<double>(Jets(ragged)), most};
}

void AddNotes(BenchReport& report, const Flags& flags, const std::vector<Variant>& variants,
              const InterleavedOptions& options) {
  const auto [mean, most] = Constituents(variants[1]);
  report.AddNote("jets",
                 absl::StrCat(Jets(variants[0]), " AK4 jets of TtbarGenerator(", kEventSeed,
                              ") events 0, 1, ... in batches of ",
                              variants[0].batches.front().entries, "; constituents per jet: mean ",
                              mean, ", max ", most, " (the padded model keeps 100 slots)"));
  report.AddNote("models",
                 absl::StrCat("the demonstrator's model zoo (seed ", kModelSeed,
                              "): particlenet_padded and particlenet_ragged, pytorch backend, "
                              "max_batch_size 64, dynamic batching, one CPU instance, "
                              "INTRA_OP_THREAD_COUNT 1"));
  report.AddNote("client", "TritonClient (SonicEngine), Sync, shared memory off, no compression: "
                           "padded = one rectangular request per batch, ragged = one request "
                           "per jet, all in flight at once");
  report.AddNote("bytes", "input bytes = the FP32 tensor contents of the requests (padded: "
                          "points, features and mask of 100 slots; ragged: points and features "
                          "of each constituent); wire bytes = what the client wrote to its "
                          "socket (gRPC messages, HTTP/2 frames and headers), counted by a relay "
                          "over one pass of every batch after a warm-up pass");
  report.AddNote("timing",
                 absl::StrCat(options.clients, " clients per model (batches in flight on its one "
                                               "instance), the models alternating in windows of ",
                              absl::FormatDuration(options.window), ", ", options.warmup_rounds,
                              " warm-up + ", options.rounds,
                              " measured rounds (rounded up to a multiple of the models: "
                              "interleaved_load.h)"));
  report.AddNote("quick", flags.quick ? "true (smoke run: 2 batches of 4 jets, figures "
                                        "meaningless)"
                                      : "false");
}

absl::Status Run(const Flags& flags) {
  const std::vector<Variant> variants = Variants(flags);
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
  const std::filesystem::path repository = dir->path() / "models";
  SONIC_RETURN_IF_ERROR(demo::models::GenerateModels(repository, kModelSeed));
  SONIC_ASSIGN_OR_RETURN(auto server, StartServer(repository));
  InterleavedOptions options;
  options.clients = flags.clients;
  options.window = flags.quick ? absl::Milliseconds(50) : absl::Seconds(flags.window_s);
  options.rounds = flags.quick ? 1 : flags.rounds;
  BenchReport report("ragged_vs_padded");
  AddNotes(report, flags, variants, options);
  report.AddNote("load_average_before", ReadLoadAverage());

  std::vector<VariantFigures> figures(variants.size());
  std::vector<LoadSide> sides;
  std::vector<inference::ModelStatistics> before;
  for (size_t v = 0; v < variants.size(); ++v) {
    uint64_t bytes = 0;
    for (const ObjectBatch& batch : variants[v].batches) bytes += InputBytes(batch);
    figures[v].input_bytes_per_jet =
        static_cast<double>(bytes) / static_cast<double>(Jets(variants[v]));
    SONIC_ASSIGN_OR_RETURN(figures[v].wire, MeasureWireBytes(*server, variants[v]));
    sides.push_back(Side(*server, variants[v]));
    SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics stats,
                           FetchModelStatistics(server->address(), variants[v].model));
    before.push_back(std::move(stats));
  }
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> load, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, load));
  for (size_t v = 0; v < variants.size(); ++v) {
    figures[v].load = load[v];
    SONIC_ASSIGN_OR_RETURN(inference::ModelStatistics after,
                           FetchModelStatistics(server->address(), variants[v].model));
    const inference::ModelStatistics delta = tools::StatisticsDelta(before[v], after);
    figures[v].server = tools::BreakdownOf(delta);
    figures[v].execution_per_jet = ExecutionTimePerInference(delta);
  }
  Report(report, variants, figures);
  report.AddNote("load_average_after", ReadLoadAverage());
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/ragged_vs_padded.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Ragged vs padded: ParticleNet-like on realistic jets, bytes and throughput");
  app.add_option("--jets-per-batch", flags.jets_per_batch, "Jets per dispatch")
      ->check(CLI::Range(1, 64));
  app.add_option("--batches", flags.batches, "Distinct batches of jets")->check(CLI::Range(1, 1000));
  app.add_option("--window-s", flags.window_s, "Seconds of one model's turn")
      ->check(CLI::Range(0.01, 60.0));
  app.add_option("--rounds", flags.rounds, "Measured rounds")->check(CLI::Range(1, 1000));
  app.add_option("--clients", flags.clients, "Sync clients per model")->check(CLI::Range(1, 64));
  app.add_flag("--quick", flags.quick, "2 batches of 4 jets, one short round (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for ragged_vs_padded.json");
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "ragged_vs_padded benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
