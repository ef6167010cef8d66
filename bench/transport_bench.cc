// Scenario "transport": what the inference protocol and sonic-server's request
// path add to a bare gRPC round trip. The identity model of a local sonic-server (ModelInfer of
// an FP32 tensor, copied input to output) beside the transport floor, a bare gRPC echo server
// (echo_server.h) answering the same payload, for payloads of 1 KiB, 64 KiB and 4 MiB. Both
// run in processes of their own, and the clients alternate between them in short windows
// (interleaved_load.h). Reports p50 latency with one client (target at 1 KiB: at most 1.2x the
// echo), throughput with several clients (target at 4 MiB: at least 0.9x the echo), the servers'
// CPU time per request, and the latency through TritonClient (the client library as a module
// uses it) against the raw ModelInfer stub on the same server (target: at most 1.1x, every size).
// The echo is written with gRPC's callback API unless --echo-api async asks for one written as
// sonic-server serves (one completion-queue thread): the targets are judged against the former.
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_report.h"
#include "client_load.h"
#include "echo.grpc.pb.h"
#include "echo_server.h"
#include "grpc_call.h"
#include "inference/grpc_service.grpc.pb.h"
#include "interleaved_load.h"
#include "server_process.h"
#include "sonic/client/triton_client.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

constexpr char kModel[] = "identity";
constexpr double kLatencyTarget = 1.2;     // sonic / echo p50 at 1 KiB, at most.
constexpr double kThroughputTarget = 0.9;  // sonic / echo throughput at 4 MiB, at least.
constexpr double kClientTarget = 1.1;      // TritonClient / raw stub p50, at most.
// With kCapacityTargetClients clients at 1 KiB: sonic / echo throughput at least, and the
// server's CPU time per request at most.
constexpr double kSmallThroughputTarget = 0.85;
constexpr double kSmallCpuTarget = 1.3;
constexpr int kCapacityTargetClients = 4;
// Client counts of the 1 KiB capacity sweep: the most small inferences/s one server serves.
constexpr int kCapacityClients[] = {1, 2, 4, 8};
constexpr size_t kLatencyTargetBytes = 1 << 10;
constexpr size_t kThroughputTargetBytes = 4 << 20;

struct Flags {
  double window_s = 0.5;
  int rounds = 6;
  int clients = 4;
  bool quick = false;
  std::vector<std::string> sizes;  // keys of Sizes(); empty: all
  EchoApi echo_api = EchoApi::kCallback;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

struct PayloadSize {
  std::string label;  // In figure names.
  std::string key;    // In table names.
  size_t bytes = 0;
};

std::vector<PayloadSize> AllSizes() {
  return {{"1 KiB", "1KiB", 1 << 10}, {"64 KiB", "64KiB", 64 << 10}, {"4 MiB", "4MiB", 4 << 20}};
}

// The sizes `flags` asks for: those named, else all but 4 MiB in a quick run, else all.
std::vector<PayloadSize> Sizes(const Flags& flags) {
  std::vector<PayloadSize> sizes;
  for (const PayloadSize& size : AllSizes()) {
    const bool named =
        std::find(flags.sizes.begin(), flags.sizes.end(), size.key) != flags.sizes.end();
    if (flags.sizes.empty() ? !(flags.quick && size.bytes > (64 << 10)) : named) {
      sizes.push_back(size);
    }
  }
  return sizes;
}

absl::Status WriteRepository(const std::filesystem::path& repository) {
  std::filesystem::create_directories(repository / kModel / "1");
  std::ofstream out(repository / kModel / "config.pbtxt");
  out << "name: \"" << kModel << "\"\nbackend: \"identity\"\nmax_batch_size: 0\n"
      << "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n"
      << "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n"
      << "instance_group [ { kind: KIND_CPU count: 1 } ]\n";
  if (!out) return absl::InternalError("cannot write the model config");
  return absl::OkStatus();
}

// `bytes` / 4 deterministic floats.
std::vector<float> PayloadValues(size_t bytes) {
  std::vector<float> values(bytes / sizeof(float));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 1000) * 0.25f;
  return values;
}

std::string AsBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

absl::Status CheckEcho(std::string_view got, std::string_view sent, bool compare_bytes) {
  if (got.size() != sent.size() || (compare_bytes && got != sent)) {
    return absl::InternalError(absl::StrCat("the answer differs from the payload (", got.size(),
                                            " bytes for ", sent.size(), ")"));
  }
  return absl::OkStatus();
}

// Each side's clients check the first answer byte for byte and the size of every later one
// (comparing megabytes per request would add the same client work to both sides and blur the
// ratio).
LoadSide EchoSide(const EchoServerProcess& server, const std::string& payload) {
  auto make = [&server, &payload]() -> absl::StatusOr<RoundTrip> {
    std::shared_ptr<EchoService::Stub> stub = EchoService::NewStub(NewChannel(server.address()));
    auto request = std::make_shared<EchoMessage>();
    request->set_payload(payload);
    auto response = std::make_shared<EchoMessage>();
    RoundTrip round_trip = [stub, request, response, first = true]() mutable -> absl::Status {
      grpc::ClientContext context;
      SONIC_RETURN_IF_ERROR(transport::FromGrpc(stub->Echo(&context, *request, response.get())));
      const bool compare = std::exchange(first, false);
      return CheckEcho(response->payload(), request->payload(), compare);
    };
    SONIC_RETURN_IF_ERROR(round_trip());
    return round_trip;
  };
  return {"echo", make, server.pid()};
}

inference::ModelInferRequest InferRequest(const std::string& payload) {
  inference::ModelInferRequest request;
  request.set_model_name(kModel);
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(static_cast<int64_t>(payload.size() / sizeof(float)));
  request.add_outputs()->set_name("OUTPUT0");
  request.add_raw_input_contents(payload);
  return request;
}

LoadSide SonicSide(const testing::ServerProcess& server, const std::string& payload) {
  auto make = [&server, &payload]() -> absl::StatusOr<RoundTrip> {
    std::shared_ptr<inference::GRPCInferenceService::Stub> stub =
        inference::GRPCInferenceService::NewStub(NewChannel(server.address()));
    auto request = std::make_shared<inference::ModelInferRequest>(InferRequest(payload));
    auto response = std::make_shared<inference::ModelInferResponse>();
    RoundTrip round_trip = [stub, request, response, first = true]() mutable -> absl::Status {
      grpc::ClientContext context;
      SONIC_RETURN_IF_ERROR(
          transport::FromGrpc(stub->ModelInfer(&context, *request, response.get())));
      if (response->raw_output_contents_size() != 1) {
        return absl::InternalError("the response has no raw output");
      }
      const bool compare = std::exchange(first, false);
      return CheckEcho(response->raw_output_contents(0), request->raw_input_contents(0), compare);
    };
    SONIC_RETURN_IF_ERROR(round_trip());
    return round_trip;
  };
  return {"sonic", make, server.pid()};
}

// One event through the client library as a module runs it: fill the input, dispatch
// (Sync, in the gRPC messages: the comparison is of transports), read the output.
absl::Status TritonEvent(client::TritonClient& client, const std::vector<float>& values,
                         bool compare) {
  client.reset();
  SONIC_ASSIGN_OR_RETURN(client::TritonInputData * input, client.input("INPUT0"));
  SONIC_RETURN_IF_ERROR(input->setShape({static_cast<int64_t>(values.size())}));
  SONIC_ASSIGN_OR_RETURN(client::TritonInputContainer<float> data, input->allocate<float>());
  (*data)[0] = values;
  SONIC_RETURN_IF_ERROR(input->toServer(data));
  absl::Status result = absl::InternalError("the dispatch never finished");
  client.dispatch([&result](absl::Status status) { result = std::move(status); });
  SONIC_RETURN_IF_ERROR(result);
  SONIC_ASSIGN_OR_RETURN(const client::TritonOutputData* output, client.output("OUTPUT0"));
  SONIC_ASSIGN_OR_RETURN(client::TritonOutput<float> views, output->fromServer<float>());
  if (views.size() != 1) return absl::InternalError("not one output entry");
  const std::span<const float> got = views[0];
  if (got.size() != values.size() ||
      (compare && !std::equal(got.begin(), got.end(), values.begin()))) {
    return absl::InternalError("TritonClient's output differs from its input");
  }
  return absl::OkStatus();
}

LoadSide TritonClientSide(const testing::ServerProcess& server, const std::vector<float>& values) {
  auto make = [&server, &values]() -> absl::StatusOr<RoundTrip> {
    client::TritonClient::Options options;
    options.mode = client::SonicMode::kSync;
    options.server_address = server.address();
    options.model_name = kModel;
    options.shared_memory = client::SharedMemoryMode::kOff;
    SONIC_ASSIGN_OR_RETURN(std::shared_ptr<client::TritonClient> client,
                           client::TritonClient::Create(options));
    RoundTrip round_trip = [client, &values, first = true]() mutable {
      return TritonEvent(*client, values, std::exchange(first, false));
    };
    SONIC_RETURN_IF_ERROR(round_trip());
    return round_trip;
  };
  return {"TritonClient", make, server.pid()};
}

double Us(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

// A ratio figure where the issue sets a target for this size, a comparison elsewhere.
void AddJudged(BenchReport& report, bool judged, std::string name, double value, std::string unit,
               std::string floor, double floor_value, double target, bool higher_is_better) {
  if (judged) {
    report.AddRatio(std::move(name), value, std::move(unit), std::move(floor), floor_value, target,
                    higher_is_better);
  } else {
    report.AddComparison(std::move(name), value, std::move(unit), std::move(floor), floor_value);
  }
}

struct Servers {
  const EchoServerProcess& echo;
  const testing::ServerProcess& sonic;
};

// One client per side: p50 latency of sonic (raw ModelInfer) and TritonClient against the echo.
absl::Status MeasureLatency(const Servers& servers, const PayloadSize& size,
                            const InterleavedOptions& base, BenchReport& report) {
  const std::vector<float> values = PayloadValues(size.bytes);
  const std::string payload = AsBytes(values);
  const std::vector<LoadSide> sides = {EchoSide(servers.echo, payload),
                                       SonicSide(servers.sonic, payload),
                                       TritonClientSide(servers.sonic, values)};
  InterleavedOptions options = base;
  options.clients = 1;
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> r, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, r));
  const SideResult &echo = r[0], &sonic = r[1], &triton = r[2];
  AddJudged(report, size.bytes == kLatencyTargetBytes,
            absl::StrCat("p50 latency ", size.label, ", sonic / echo"), Us(sonic.p50_latency), "us",
            "gRPC echo", Us(echo.p50_latency), kLatencyTarget, /*higher_is_better=*/false);
  report.AddRatio(absl::StrCat("p50 latency ", size.label, ", TritonClient / raw stub"),
                  Us(triton.p50_latency), "us", "raw ModelInfer stub", Us(sonic.p50_latency),
                  kClientTarget, /*higher_is_better=*/false);
  report.AddTable(absl::StrCat("latency_1_client_", size.key),
                  {{"echo_p50_us", Us(echo.p50_latency)},
                   {"echo_p99_us", Us(echo.p99_latency)},
                   {"sonic_p50_us", Us(sonic.p50_latency)},
                   {"sonic_p99_us", Us(sonic.p99_latency)},
                   {"triton_client_p50_us", Us(triton.p50_latency)},
                   {"triton_client_p99_us", Us(triton.p99_latency)},
                   {"client_cpu_us_per_request_raw_stub", sonic.ClientCpuUsPerRequest()},
                   {"client_cpu_us_per_request_triton_client", triton.ClientCpuUsPerRequest()},
                   {"echo_requests", static_cast<double>(echo.successes)},
                   {"sonic_requests", static_cast<double>(sonic.successes)},
                   {"triton_client_requests", static_cast<double>(triton.successes)}});
  return absl::OkStatus();
}

// Several clients per side: throughput and the CPU time each server spends per request. Returns
// both sides' requests per second.
absl::StatusOr<std::pair<double, double>> MeasureThroughput(const Servers& servers,
                                                            const PayloadSize& size,
                                                            const InterleavedOptions& options,
                                                            BenchReport& report) {
  const std::string payload = AsBytes(PayloadValues(size.bytes));
  const std::vector<LoadSide> sides = {EchoSide(servers.echo, payload),
                                       SonicSide(servers.sonic, payload)};
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> r, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, r));
  const SideResult &echo = r[0], &sonic = r[1];
  const bool small_target =
      size.bytes == kLatencyTargetBytes && options.clients == kCapacityTargetClients;
  const std::string label = absl::StrCat(size.label, " (", options.clients, " clients)");
  AddJudged(report, size.bytes == kThroughputTargetBytes || small_target,
            absl::StrCat("throughput ", label, ", sonic / echo"), sonic.requests_per_second,
            "req/s", "gRPC echo", echo.requests_per_second,
            small_target ? kSmallThroughputTarget : kThroughputTarget, /*higher_is_better=*/true);
  const double echo_cpu = echo.ServerCpuUsPerRequest();
  const double sonic_cpu = sonic.ServerCpuUsPerRequest();
  AddJudged(report, small_target, absl::StrCat("server CPU per request ", label, ", sonic / echo"),
            sonic_cpu, "us", "gRPC echo server", echo_cpu, kSmallCpuTarget,
            /*higher_is_better=*/false);
  report.AddTable(absl::StrCat("throughput_", options.clients, "_clients_", size.key),
                  {{"echo_requests_per_s", echo.requests_per_second},
                   {"sonic_requests_per_s", sonic.requests_per_second},
                   {"echo_p50_us", Us(echo.p50_latency)},
                   {"sonic_p50_us", Us(sonic.p50_latency)},
                   {"echo_server_cpu_us_per_request", echo_cpu},
                   {"sonic_server_cpu_us_per_request", sonic_cpu},
                   {"client_cpu_us_per_request_echo", echo.ClientCpuUsPerRequest()},
                   {"client_cpu_us_per_request_sonic", sonic.ClientCpuUsPerRequest()}});
  return std::make_pair(echo.requests_per_second, sonic.requests_per_second);
}

// 1 KiB with 1, 2, 4 and 8 clients: the most requests per second each server answered.
absl::Status MeasureCapacity(const Servers& servers, const PayloadSize& size,
                             InterleavedOptions options, BenchReport& report) {
  double echo_best = 0, sonic_best = 0;
  for (int clients : kCapacityClients) {
    options.clients = clients;
    SONIC_ASSIGN_OR_RETURN(auto rates, MeasureThroughput(servers, size, options, report));
    echo_best = std::max(echo_best, rates.first);
    sonic_best = std::max(sonic_best, rates.second);
  }
  report.AddComparison(
      absl::StrCat("most ", size.label, " requests/s of one server (1-8 clients), sonic / echo"),
      sonic_best, "req/s", "gRPC echo", echo_best);
  return absl::OkStatus();
}

void AddNotes(BenchReport& report, const Flags& flags, const InterleavedOptions& options) {
  report.AddNote("model", absl::StrCat(kModel,
                                       ": identity backend, max_batch_size 0, INPUT0 FP32 "
                                       "dims [-1] -> OUTPUT0, one CPU instance, no "
                                       "dynamic batching"));
  report.AddNote("floor",
                 absl::StrCat("bench/echo.proto EchoService.Echo: bytes in, the same bytes out, ",
                              flags.echo_api == EchoApi::kCallback
                                  ? "gRPC callback API"
                                  : "gRPC async API on one completion-queue thread (as "
                                    "sonic-server serves)",
                              ", sonic-server's server options, own process"));
  report.AddNote("clients",
                 absl::StrCat("raw ModelInfer / Echo stubs, one channel (connection) per client; "
                              "latency with 1 client, throughput with ",
                              options.clients, " (1 KiB: 1, 2, 4 and 8)",
                              "; TritonClient: Sync mode, shared memory off, one event per "
                              "request (fill input, dispatch, read output)"));
  report.AddNote(
      "timing", absl::StrCat("sides alternate in windows of ", absl::FormatDuration(options.window),
                             ", ", options.warmup_rounds, " warm-up round + ", options.rounds,
                             " measured rounds per size and client count (rounded up to a "
                             "multiple of the sides: interleaved_load.h)"));
  report.AddNote("cpu", "server CPU: utime + stime of /proc/<pid>/stat over the measured windows");
  report.AddNote("quick",
                 flags.quick ? "true (smoke run: small sizes, figures meaningless)" : "false");
}

absl::Status Run(const Flags& flags) {
  // First: the echo server is a fork of this process, made before any thread or gRPC use.
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<EchoServerProcess> echo,
                         EchoServerProcess::Start(flags.echo_api));
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
  const std::filesystem::path repository = dir->path() / "models";
  SONIC_RETURN_IF_ERROR(WriteRepository(repository));
  SONIC_ASSIGN_OR_RETURN(auto sonic, StartServer(repository));
  InterleavedOptions options;
  options.clients = flags.clients;
  options.window = flags.quick ? absl::Milliseconds(50) : absl::Seconds(flags.window_s);
  options.rounds = flags.quick ? 1 : flags.rounds;
  BenchReport report("transport");
  AddNotes(report, flags, options);
  report.AddNote("load_average_before", ReadLoadAverage());
  const Servers servers{*echo, *sonic};
  for (const PayloadSize& size : Sizes(flags)) {
    SONIC_RETURN_IF_ERROR(MeasureLatency(servers, size, options, report));
    if (size.bytes == kLatencyTargetBytes && !flags.quick) {
      SONIC_RETURN_IF_ERROR(MeasureCapacity(servers, size, options, report));
    } else {
      SONIC_RETURN_IF_ERROR(MeasureThroughput(servers, size, options, report).status());
    }
  }
  report.AddNote("load_average_after", ReadLoadAverage());
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/transport.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Transport benchmark: sonic-server's identity model vs a bare gRPC echo");
  app.add_option("--window-s", flags.window_s, "Seconds of one side's turn")
      ->check(CLI::Range(0.01, 60.0));
  app.add_option("--rounds", flags.rounds, "Measured rounds per size")->check(CLI::Range(1, 1000));
  app.add_option("--clients", flags.clients, "Clients per side for the throughput")
      ->check(CLI::Range(1, 256));
  app.add_flag("--quick", flags.quick, "Small payloads, one short round (CI smoke run)");
  app.add_option("--sizes", flags.sizes, "Payload sizes to measure (default: all)")
      ->check(CLI::IsMember({"1KiB", "64KiB", "4MiB"}));
  app.add_option("--out", flags.out, "Directory for transport.json");
  using sonic::bench::EchoApi;
  const std::map<std::string, EchoApi> apis = {{"callback", EchoApi::kCallback},
                                               {"async", EchoApi::kAsyncOneThread}};
  app.add_option("--echo-api", flags.echo_api,
                 "The floor's gRPC API: callback (the targets' floor) | async (one thread, as "
                 "sonic-server serves)")
      ->transform(CLI::CheckedTransformer(apis));
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "transport benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
