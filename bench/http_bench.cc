// Scenario "http": what an inference over sonic-server's HTTP/REST endpoint costs next to the
// same inference over gRPC, and why the endpoint is built on the HTTP library it is.
//  - sonic-server's identity model, a 1 KiB FP32 tensor, over HTTP with Triton's binary tensor
//    data extension (as tritonclient.http sends it by default) vs over gRPC ModelInfer, one
//    keep-alive connection each, same server process: p50 latency and the server's CPU time per
//    request (target: HTTP at most 1.5x gRPC); the same in JSON, for information.
//  - the candidate libraries (cpp-httplib, libevent's evhttp, libmicrohttpd) as bare echo
//    servers of the same 1 KiB, beside the bare gRPC echo floor: the library's own cost.
// All sides alternate in short windows (interleaved_load.h) with one client each; the HTTP
// clients are one raw socket each (raw_http_client.h), so no client library is measured.
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_report.h"
#include "client_load.h"
#include "echo.grpc.pb.h"
#include "echo_server.h"
#include "http_echo_servers.h"
#include "inference/grpc_service.grpc.pb.h"
#include "interleaved_load.h"
#include "raw_http_client.h"
#include "server_process.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

constexpr char kModel[] = "identity";
constexpr size_t kPayloadBytes = 1 << 10;
constexpr double kTarget = 1.5;  // HTTP / gRPC, latency and server CPU, at most.

struct Flags {
  double window_s = 0.5;
  int rounds = 6;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

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

std::vector<float> Values() {
  std::vector<float> values(kPayloadBytes / sizeof(float));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f;
  return values;
}

std::string Payload() {
  const std::vector<float> values = Values();
  return std::string(reinterpret_cast<const char*>(values.data()), kPayloadBytes);
}

absl::Status CheckSize(size_t got, size_t expected, std::string_view what) {
  if (got == expected) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(std::string(what), ": ", got, " bytes for ", expected));
}

LoadSide GrpcEchoSide(const EchoServerProcess& server, const std::string& payload) {
  auto make = [&server, &payload]() -> absl::StatusOr<RoundTrip> {
    std::shared_ptr<EchoService::Stub> stub = EchoService::NewStub(NewChannel(server.address()));
    auto request = std::make_shared<EchoMessage>();
    request->set_payload(payload);
    auto response = std::make_shared<EchoMessage>();
    return RoundTrip([stub, request, response]() -> absl::Status {
      grpc::ClientContext context;
      grpc::Status status = stub->Echo(&context, *request, response.get());
      if (!status.ok()) return absl::InternalError(status.error_message());
      return CheckSize(response->payload().size(), request->payload().size(), "echo");
    });
  };
  return {"gRPC echo", make, server.pid()};
}

// One raw keep-alive connection sending `request` and expecting a body of `answer_bytes`.
LoadSide RawHttpSide(std::string name, int port, pid_t pid, std::string request,
                     size_t answer_bytes) {
  auto make = [port, request = std::move(request), answer_bytes]() -> absl::StatusOr<RoundTrip> {
    SONIC_ASSIGN_OR_RETURN(std::shared_ptr<RawHttpClient> client, RawHttpClient::Connect(port));
    RoundTrip round_trip = [client, request, answer_bytes]() -> absl::Status {
      SONIC_ASSIGN_OR_RETURN(std::string_view body, client->RoundTrip(request));
      if (answer_bytes == 0) return absl::OkStatus();
      return CheckSize(body.size(), answer_bytes, "HTTP answer");
    };
    SONIC_RETURN_IF_ERROR(round_trip());
    return round_trip;
  };
  return {std::move(name), make, pid};
}

LoadSide SonicGrpcSide(const testing::ServerProcess& server, const std::string& payload) {
  auto make = [&server, &payload]() -> absl::StatusOr<RoundTrip> {
    std::shared_ptr<inference::GRPCInferenceService::Stub> stub =
        inference::GRPCInferenceService::NewStub(NewChannel(server.address()));
    auto request = std::make_shared<inference::ModelInferRequest>();
    request->set_model_name(kModel);
    auto* input = request->add_inputs();
    input->set_name("INPUT0");
    input->set_datatype("FP32");
    input->add_shape(static_cast<int64_t>(payload.size() / sizeof(float)));
    request->add_outputs()->set_name("OUTPUT0");
    request->add_raw_input_contents(payload);
    auto response = std::make_shared<inference::ModelInferResponse>();
    return RoundTrip([stub, request, response]() -> absl::Status {
      grpc::ClientContext context;
      grpc::Status status = stub->ModelInfer(&context, *request, response.get());
      if (!status.ok()) return absl::InternalError(status.error_message());
      if (response->raw_output_contents_size() != 1) return absl::InternalError("no output");
      return CheckSize(response->raw_output_contents(0).size(), kPayloadBytes, "output");
    });
  };
  return {"sonic gRPC", make, server.pid()};
}

// The request tritonclient.http sends by default: a JSON header, the tensor as binary data, and
// the output asked for as binary data.
std::string BinaryInferRequest(const std::string& payload) {
  const std::string header = absl::StrCat(
      R"({"inputs":[{"name":"INPUT0","shape":[)", payload.size() / sizeof(float),
      R"(],"datatype":"FP32","parameters":{"binary_data_size":)", payload.size(),
      R"(}}],"outputs":[{"name":"OUTPUT0","parameters":{"binary_data":true}}]})");
  return HttpPostBytes(absl::StrCat("/v2/models/", kModel, "/infer"), header + payload,
                       absl::StrCat("Content-Type: application/octet-stream\r\n"
                                    "Inference-Header-Content-Length: ",
                                    header.size(), "\r\n"));
}

std::string JsonInferRequest() {
  std::string data;
  for (float value : Values()) absl::StrAppend(&data, data.empty() ? "" : ",", value);
  const std::string body =
      absl::StrCat(R"({"inputs":[{"name":"INPUT0","shape":[)", Values().size(),
                   R"(],"datatype":"FP32","data":[)", data, R"(]}]})");
  return HttpPostBytes(absl::StrCat("/v2/models/", kModel, "/infer"), body,
                       "Content-Type: application/json\r\n");
}

double Us(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

struct Servers {
  const EchoServerProcess& grpc_echo;
  const std::vector<std::pair<HttpLibrary, std::unique_ptr<HttpEchoServerProcess>>>& http_echo;
  const testing::ServerProcess& sonic;
};

std::vector<LoadSide> Sides(const Servers& servers, const std::string& payload) {
  std::vector<LoadSide> sides = {GrpcEchoSide(servers.grpc_echo, payload)};
  for (const auto& [library, server] : servers.http_echo) {
    sides.push_back(RawHttpSide(HttpLibraryName(library) + " echo", server->port(),
                                server->pid(), HttpPostBytes("/echo", payload), payload.size()));
  }
  const int port = servers.sonic.http_port();
  sides.push_back(SonicGrpcSide(servers.sonic, payload));
  sides.push_back(RawHttpSide("sonic HTTP binary", port, servers.sonic.pid(),
                              BinaryInferRequest(payload), 0));
  sides.push_back(RawHttpSide("sonic HTTP JSON", port, servers.sonic.pid(), JsonInferRequest(), 0));
  return sides;
}

void Report(const std::vector<LoadSide>& sides, const std::vector<SideResult>& r,
            BenchReport& report) {
  const size_t grpc = sides.size() - 3, binary = sides.size() - 2, json = sides.size() - 1;
  report.AddRatio("p50 latency 1 KiB infer, HTTP binary / gRPC", Us(r[binary].p50_latency), "us",
                  "sonic-server gRPC ModelInfer", Us(r[grpc].p50_latency), kTarget, false);
  report.AddRatio("server CPU per request 1 KiB infer, HTTP binary / gRPC",
                  r[binary].ServerCpuUsPerRequest(), "us", "sonic-server gRPC ModelInfer",
                  r[grpc].ServerCpuUsPerRequest(), kTarget, false);
  report.AddComparison("p50 latency 1 KiB infer, HTTP JSON / gRPC", Us(r[json].p50_latency), "us",
                       "sonic-server gRPC ModelInfer", Us(r[grpc].p50_latency));
  report.AddComparison("server CPU per request 1 KiB infer, HTTP JSON / gRPC",
                       r[json].ServerCpuUsPerRequest(), "us", "sonic-server gRPC ModelInfer",
                       r[grpc].ServerCpuUsPerRequest());
  std::vector<std::pair<std::string, double>> table;
  for (size_t i = 0; i < sides.size(); ++i) {
    if (i > 0 && i < grpc) {
      report.AddComparison(absl::StrCat("p50 latency 1 KiB echo, ", sides[i].name, " / gRPC echo"),
                           Us(r[i].p50_latency), "us", "gRPC echo", Us(r[0].p50_latency));
      report.AddComparison(
          absl::StrCat("server CPU per request 1 KiB echo, ", sides[i].name, " / gRPC echo"),
          r[i].ServerCpuUsPerRequest(), "us", "gRPC echo", r[0].ServerCpuUsPerRequest());
    }
    table.emplace_back(sides[i].name + " p50_us", Us(r[i].p50_latency));
    table.emplace_back(sides[i].name + " p99_us", Us(r[i].p99_latency));
    table.emplace_back(sides[i].name + " server_cpu_us_per_request", r[i].ServerCpuUsPerRequest());
    table.emplace_back(sides[i].name + " requests", static_cast<double>(r[i].successes));
  }
  report.AddTable("latency_1_client_1KiB", table);
}

absl::Status Run(const Flags& flags) {
  // Forks first, before any thread or gRPC use.
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<EchoServerProcess> grpc_echo, EchoServerProcess::Start());
  std::vector<std::pair<HttpLibrary, std::unique_ptr<HttpEchoServerProcess>>> http_echo;
  for (HttpLibrary library : AvailableHttpLibraries()) {
    SONIC_ASSIGN_OR_RETURN(auto server, HttpEchoServerProcess::Start(library));
    http_echo.emplace_back(library, std::move(server));
  }
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench-http"));
  SONIC_RETURN_IF_ERROR(WriteRepository(dir->path() / "models"));
  SONIC_ASSIGN_OR_RETURN(auto sonic, StartServer(dir->path() / "models"));
  InterleavedOptions options;
  options.clients = 1;
  options.window = flags.quick ? absl::Milliseconds(50) : absl::Seconds(flags.window_s);
  options.rounds = flags.quick ? 1 : flags.rounds;
  BenchReport report("http");
  report.AddNote("model", "identity: max_batch_size 0, INPUT0 FP32 dims [-1] -> OUTPUT0, one CPU "
                          "instance; 1 KiB = 256 floats");
  report.AddNote("clients", "one client per side, one keep-alive connection; HTTP clients are a "
                            "raw socket (bench/raw_http_client.h); gRPC: a stub, own channel");
  report.AddNote("http_binary", "JSON header + binary input, output asked as binary_data "
                                "(tritonclient.http's default)");
  report.AddNote("echo_servers", "bench/http_echo_servers.h: cpp-httplib with 8 pool threads, "
                                 "evhttp on one event loop, libmicrohttpd with its epoll thread");
  report.AddNote("cpu", "server CPU: utime + stime of /proc/<pid>/stat over the measured windows");
  report.AddNote("timing", absl::StrCat("windows of ", absl::FormatDuration(options.window), ", ",
                                        options.rounds,
                                        " measured rounds (rounded up to a multiple of the sides: "
                                        "interleaved_load.h)"));
  report.AddNote("quick", flags.quick ? "true (smoke run, figures meaningless)" : "false");
  report.AddNote("load_average_before", ReadLoadAverage());
  const std::string payload = Payload();
  const std::vector<LoadSide> sides = Sides({*grpc_echo, http_echo, *sonic}, payload);
  SONIC_ASSIGN_OR_RETURN(std::vector<SideResult> results, RunInterleaved(options, sides));
  SONIC_RETURN_IF_ERROR(CheckAllAnswered(sides, results));
  Report(sides, results, report);
  report.AddNote("load_average_after", ReadLoadAverage());
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/http.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("HTTP benchmark: sonic-server's HTTP/REST vs gRPC, and the HTTP libraries");
  app.add_option("--window-s", flags.window_s, "Seconds of one side's turn")
      ->check(CLI::Range(0.01, 60.0));
  app.add_option("--rounds", flags.rounds, "Measured rounds")->check(CLI::Range(1, 1000));
  app.add_flag("--quick", flags.quick, "One short round (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for http.json");
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "http benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
