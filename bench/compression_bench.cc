// Scenario "compression": what gRPC's message compression buys and costs on
// padded inputs. A ParticleNet-like tensor, jets of 100 constituents x 16 features with the
// constituents a jet does not have zero-padded (about 70% of the rows), goes through the identity
// model of a local sonic-server with TritonClient's Compression::kNone, kDeflate and kGzip.
// Reports, against no compression: the bytes on the wire per request each way (counted by a TCP
// relay between client and server, byte_counting_relay.h), the CPU time per request of the client
// process and of the server (getrusage / /proc/<pid>/stat), throughput with several clients and
// p50 latency with one. The modes take turns in short windows (interleaved_load.h).
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench_report.h"
#include "byte_counting_relay.h"
#include "client_load.h"
#include "interleaved_load.h"
#include "server_process.h"
#include "sonic/client/triton_client.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

constexpr char kModel[] = "padded_jets";
constexpr int kConstituents = 100;
constexpr int kFeatures = 16;
constexpr int kMaxJets = 64;
constexpr uint64_t kSeed = 20240807;

using client::Compression;

struct Flags {
  int jets = 32;
  double window_s = 0.5;
  int rounds = 6;
  int clients = 4;
  int wire_requests = 20;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

struct Mode {
  Compression compression;
  std::string name;
};

const std::vector<Mode>& Modes() {
  static const std::vector<Mode> modes = {{Compression::kNone, "none"},
                                          {Compression::kDeflate, "deflate"},
                                          {Compression::kGzip, "gzip"}};
  return modes;
}

absl::Status WriteRepository(const std::filesystem::path& repository) {
  std::filesystem::create_directories(repository / kModel / "1");
  std::ofstream out(repository / kModel / "config.pbtxt");
  out << "name: \"" << kModel << "\"\nbackend: \"identity\"\nmax_batch_size: " << kMaxJets
      << "\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ " << kConstituents << ", "
      << kFeatures << " ] } ]\n"
      << "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ " << kConstituents << ", "
      << kFeatures << " ] } ]\n"
      << "instance_group [ { kind: KIND_CPU count: 1 } ]\n";
  if (!out) return absl::InternalError("cannot write the model config");
  return absl::OkStatus();
}

// One jet's constituents x features, row-major: 10 to 50 real constituents (30 on average, so
// 70% of the rows are padding) with standard-normal features, then zeros.
struct PaddedJets {
  std::vector<std::vector<float>> jets;
  double padding_fraction = 0;
};

PaddedJets MakeJets(int count) {
  std::mt19937_64 random(kSeed);
  std::uniform_int_distribution<int> multiplicity(10, 50);
  std::normal_distribution<float> feature(0.0f, 1.0f);
  PaddedJets result;
  int64_t real_rows = 0;
  for (int j = 0; j < count; ++j) {
    std::vector<float> jet(kConstituents * kFeatures, 0.0f);
    const int constituents = multiplicity(random);
    real_rows += constituents;
    for (int i = 0; i < constituents * kFeatures; ++i) jet[i] = feature(random);
    result.jets.push_back(std::move(jet));
  }
  result.padding_fraction =
      1.0 - static_cast<double>(real_rows) / static_cast<double>(count * kConstituents);
  return result;
}

absl::StatusOr<std::unique_ptr<client::TritonClient>> NewClient(const std::string& address,
                                                                Compression compression) {
  client::TritonClient::Options options;
  options.mode = client::SonicMode::kSync;
  options.server_address = address;
  options.model_name = kModel;
  options.compression = compression;
  // Through shared memory the tensors would not be in the messages, and nothing to compress.
  options.shared_memory = client::SharedMemoryMode::kOff;
  return client::TritonClient::Create(options);
}

// One event: fill the batch of jets, dispatch, check the output's size (and, with `compare`,
// every value).
absl::Status SendEvent(client::TritonClient& client, const PaddedJets& input, bool compare) {
  client.reset();
  client.setBatchSize(input.jets.size());
  SONIC_ASSIGN_OR_RETURN(client::TritonInputData * tensor, client.input("INPUT0"));
  SONIC_ASSIGN_OR_RETURN(client::TritonInputContainer<float> data, tensor->allocate<float>());
  *data = input.jets;
  SONIC_RETURN_IF_ERROR(tensor->toServer(data));
  absl::Status result = absl::InternalError("the dispatch never finished");
  client.dispatch([&result](absl::Status status) { result = std::move(status); });
  SONIC_RETURN_IF_ERROR(result);
  SONIC_ASSIGN_OR_RETURN(const client::TritonOutputData* output, client.output("OUTPUT0"));
  SONIC_ASSIGN_OR_RETURN(client::TritonOutput<float> views, output->fromServer<float>());
  if (views.size() != input.jets.size()) return absl::InternalError("wrong number of outputs");
  for (size_t j = 0; j < views.size(); ++j) {
    if (views[j].size() != input.jets[j].size() ||
        (compare && !std::equal(views[j].begin(), views[j].end(), input.jets[j].begin()))) {
      return absl::InternalError(absl::StrCat("output of jet ", j, " differs from its input"));
    }
  }
  return absl::OkStatus();
}

struct WireBytes {
  double upstream_per_request = 0;
  double downstream_per_request = 0;
};

// `requests` events of one client through a counting relay, after one warm-up event (which
// carries the connection's setup and the first, uncompressed HTTP/2 headers).
absl::StatusOr<WireBytes> MeasureWireBytes(const testing::ServerProcess& server,
                                           Compression compression, const PaddedJets& input,
                                           int requests) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<ByteCountingRelay> relay,
                         ByteCountingRelay::Start(server.port()));
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<client::TritonClient> client,
                         NewClient(relay->address(), compression));
  SONIC_RETURN_IF_ERROR(SendEvent(*client, input, /*compare=*/true));
  const uint64_t up = relay->client_to_server_bytes();
  const uint64_t down = relay->server_to_client_bytes();
  for (int i = 0; i < requests; ++i) SONIC_RETURN_IF_ERROR(SendEvent(*client, input, false));
  return WireBytes{static_cast<double>(relay->client_to_server_bytes() - up) / requests,
                   static_cast<double>(relay->server_to_client_bytes() - down) / requests};
}

std::vector<LoadSide> Sides(const testing::ServerProcess& server, const PaddedJets& input) {
  std::vector<LoadSide> sides;
  for (const Mode& mode : Modes()) {
    auto make = [&server, &input, compression = mode.compression]() -> absl::StatusOr<RoundTrip> {
      SONIC_ASSIGN_OR_RETURN(std::shared_ptr<client::TritonClient> client,
                             NewClient(server.address(), compression));
      SONIC_RETURN_IF_ERROR(SendEvent(*client, input, /*compare=*/true));
      return RoundTrip([client, &input] { return SendEvent(*client, input, false); });
    };
    sides.push_back({mode.name, make, server.pid()});
  }
  return sides;
}

// Everything measured for one compression mode.
struct ModeFigures {
  WireBytes wire;
  double p50_latency_us = 0;  // One client.
  double requests_per_s = 0;  // Several clients.
  double client_cpu_us = 0;   // Per request, several clients.
  double server_cpu_us = 0;
};

void Report(BenchReport& report, const std::vector<ModeFigures>& figures, int clients) {
  const ModeFigures& none = figures[0];
  for (size_t m = 1; m < figures.size(); ++m) {
    const ModeFigures& f = figures[m];
    const std::string name = Modes()[m].name;
    const std::string floor = "no compression";
    report.AddComparison(absl::StrCat("bytes sent per request, ", name, " / none"),
                         f.wire.upstream_per_request, "bytes", floor,
                         none.wire.upstream_per_request);
    report.AddComparison(absl::StrCat("bytes received per request, ", name, " / none"),
                         f.wire.downstream_per_request, "bytes", floor,
                         none.wire.downstream_per_request);
    report.AddComparison(absl::StrCat("client CPU per request, ", name, " / none"), f.client_cpu_us,
                         "us", floor, none.client_cpu_us);
    report.AddComparison(absl::StrCat("server CPU per request, ", name, " / none"), f.server_cpu_us,
                         "us", floor, none.server_cpu_us);
    report.AddComparison(absl::StrCat("throughput ", clients, " clients, ", name, " / none"),
                         f.requests_per_s, "req/s", floor, none.requests_per_s);
    report.AddComparison(absl::StrCat("p50 latency 1 client, ", name, " / none"), f.p50_latency_us,
                         "us", floor, none.p50_latency_us);
  }
  for (size_t m = 0; m < figures.size(); ++m) {
    const ModeFigures& f = figures[m];
    report.AddTable(Modes()[m].name, {{"bytes_sent_per_request", f.wire.upstream_per_request},
                                      {"bytes_received_per_request", f.wire.downstream_per_request},
                                      {"p50_latency_us_1_client", f.p50_latency_us},
                                      {"requests_per_s", f.requests_per_s},
                                      {"client_cpu_us_per_request", f.client_cpu_us},
                                      {"server_cpu_us_per_request", f.server_cpu_us}});
  }
}

void AddNotes(BenchReport& report, const Flags& flags, const PaddedJets& input,
              const InterleavedOptions& options) {
  const size_t tensor_bytes = input.jets.size() * kConstituents * kFeatures * sizeof(float);
  report.AddNote("input",
                 absl::StrCat(input.jets.size(), " jets x ", kConstituents, " constituents x ",
                              kFeatures, " FP32 features (", tensor_bytes,
                              " bytes per request); 10-50 real constituents per jet with "
                              "standard-normal features, the rest zero: ",
                              absl::StrFormat("%.1f", 100 * input.padding_fraction),
                              "% of the rows are padding; seed ", kSeed));
  report.AddNote("model", absl::StrCat(kModel, ": identity backend, max_batch_size ", kMaxJets,
                                       ", one CPU instance; the response carries the same tensor"));
  report.AddNote("client",
                 "TritonClient, Sync mode, shared memory off, one request per event; "
                 "compression applies to the requests (gRPC's default level); "
                 "the server answers uncompressed, as Triton does by default");
  report.AddNote("wire_bytes",
                 absl::StrCat("counted by a TCP relay between one client and the server over ",
                              flags.quick ? 3 : flags.wire_requests,
                              " requests after a warm-up one: HTTP/2 frames, headers and gRPC "
                              "messages as written to the sockets, no TCP/IP headers"));
  report.AddNote("cpu", absl::StrCat("per request with ", options.clients,
                                     " clients: client = getrusage(RUSAGE_SELF) of the benchmark "
                                     "process, server = utime + stime of /proc/<pid>/stat"));
  report.AddNote(
      "timing", absl::StrCat("modes alternate in windows of ", absl::FormatDuration(options.window),
                             ", ", options.warmup_rounds, " warm-up round + ", options.rounds,
                             " measured rounds (rounded up to a multiple of the modes: "
                             "interleaved_load.h), once with 1 client, once with ",
                             options.clients));
  report.AddNote("quick", flags.quick ? "true (smoke run: 2 jets, figures meaningless)" : "false");
}

absl::Status Run(const Flags& flags) {
  const PaddedJets input = MakeJets(flags.quick ? 2 : flags.jets);
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
  const std::filesystem::path repository = dir->path() / "models";
  SONIC_RETURN_IF_ERROR(WriteRepository(repository));
  SONIC_ASSIGN_OR_RETURN(auto server, StartServer(repository));
  InterleavedOptions options;
  options.clients = flags.clients;
  options.window = flags.quick ? absl::Milliseconds(50) : absl::Seconds(flags.window_s);
  options.rounds = flags.quick ? 1 : flags.rounds;
  BenchReport report("compression");
  AddNotes(report, flags, input, options);
  report.AddNote("load_average_before", ReadLoadAverage());

  std::vector<ModeFigures> figures(Modes().size());
  for (size_t m = 0; m < Modes().size(); ++m) {
    SONIC_ASSIGN_OR_RETURN(figures[m].wire,
                           MeasureWireBytes(*server, Modes()[m].compression, input,
                                            flags.quick ? 3 : flags.wire_requests));
  }
  const std::vector<LoadSide> sides = Sides(*server, input);
  InterleavedOptions one_client = options;
  one_client.clients = 1;
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> latency, RunInterleaved(one_client, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, latency));
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> load, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, load));
  for (size_t m = 0; m < Modes().size(); ++m) {
    figures[m].p50_latency_us = absl::ToDoubleMicroseconds(latency[m].p50_latency);
    figures[m].requests_per_s = load[m].requests_per_second;
    figures[m].client_cpu_us = load[m].ClientCpuUsPerRequest();
    figures[m].server_cpu_us = load[m].ServerCpuUsPerRequest();
  }
  Report(report, figures, options.clients);
  report.AddNote("load_average_after", ReadLoadAverage());
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/compression.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Compression benchmark: gzip / deflate vs none on padded inputs");
  app.add_option("--jets", flags.jets, "Jets per request")
      ->check(CLI::Range(1, sonic::bench::kMaxJets));
  app.add_option("--window-s", flags.window_s, "Seconds of one mode's turn")
      ->check(CLI::Range(0.01, 60.0));
  app.add_option("--rounds", flags.rounds, "Measured rounds")->check(CLI::Range(1, 1000));
  app.add_option("--clients", flags.clients, "Clients per mode for throughput and CPU")
      ->check(CLI::Range(1, 256));
  app.add_option("--wire-requests", flags.wire_requests, "Requests counted on the wire per mode")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--quick", flags.quick, "2 jets, one short round (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for compression.json");
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "compression benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
