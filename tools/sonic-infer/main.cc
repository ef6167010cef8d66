// sonic-infer: a generic KServe v2 gRPC client. Asks a server (sonic-server or Triton) for a
// model's inputs, fills them with zeros or random values, sends ModelInfer, and prints each
// output's name, datatype, shape and first values; with --repeat, the client-side latency.
//
// Exit status: 0 on success, 1 on any error (gRPC errors print their status code name).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc_call.h"
#include "grpc_channel.h"
#include "infer_request.h"
#include "inference/grpc_service.grpc.pb.h"
#include "tensor_data.h"

namespace sonic::infer {
namespace {

using tools::FormatRawContents;

using Stub = inference::GRPCInferenceService::Stub;

struct Flags {
  std::string url = "localhost:8001";
  std::string model;
  std::string version;  // empty: the server's choice
  int64_t batch = 1;
  std::vector<std::string> shapes;
  std::string input_data = "random";
  uint64_t seed = 1;
  int repeat = 1;
  int print = 8;
};

std::string ShapeText(const google::protobuf::RepeatedField<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

// The request to send, built from the model's metadata and config; says what was sent.
absl::StatusOr<inference::ModelInferRequest> BuildRequest(Stub& stub, const Flags& flags) {
  absl::StatusOr<tools::ModelInterface> model =
      tools::FetchModelInterface(stub, flags.model, flags.version);
  if (!model.ok()) return model.status();
  std::cout << "model  " << model->metadata.name() << "  versions ["
            << absl::StrJoin(model->metadata.versions(), ",") << "]  platform "
            << model->metadata.platform() << "  max_batch_size " << model->max_batch_size << "\n";
  absl::StatusOr<tools::ShapeOverrides> shapes = tools::ParseShapeFlags(flags.shapes, *model);
  if (!shapes.ok()) return shapes.status();
  tools::RequestSpec spec{.model_name = flags.model,
                          .model_version = flags.version,
                          .batch_size = flags.batch,
                          .shapes = std::move(*shapes)};
  std::mt19937_64 rng(flags.seed);
  absl::StatusOr<inference::ModelInferRequest> request = tools::MakeGeneratedRequest(
      *model, spec,
      flags.input_data == "zero" ? tools::InputData::kZero : tools::InputData::kRandom, rng);
  if (!request.ok()) return request.status();
  for (const auto& input : request->inputs()) {
    std::cout << "input  " << input.name() << "  " << input.datatype() << "  "
              << ShapeText(input.shape()) << "  (" << flags.input_data << ")\n";
  }
  return request;
}

absl::Status PrintOutputs(const inference::ModelInferResponse& response, int print) {
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& output = response.outputs(i);
    std::cout << "output " << output.name() << "  " << output.datatype() << "  "
              << ShapeText(output.shape());
    if (i >= response.raw_output_contents_size()) {
      std::cout << "  (no raw contents)\n";
      continue;
    }
    size_t total = 0;
    absl::StatusOr<std::vector<std::string>> values = FormatRawContents(
        output.datatype(), response.raw_output_contents(i), static_cast<size_t>(print), &total);
    if (!values.ok()) {
      return absl::DataLossError(
          absl::StrCat("output '", output.name(), "': ", values.status().message()));
    }
    std::cout << "  " << absl::StrJoin(*values, " ") << (values->size() < total ? " ..." : "")
              << "  (" << total << " values)\n";
  }
  return absl::OkStatus();
}

// Nearest-rank percentile of sorted `values`.
double Percentile(const std::vector<double>& sorted, double percent) {
  size_t rank = static_cast<size_t>(std::ceil(percent / 100.0 * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

void PrintLatency(std::vector<double> latencies_ms) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  double sum = 0;
  for (double latency : latencies_ms) sum += latency;
  std::printf("latency over %zu requests (this client, ms): mean %.3f  p50 %.3f  p99 %.3f\n",
              latencies_ms.size(), sum / latencies_ms.size(), Percentile(latencies_ms, 50),
              Percentile(latencies_ms, 99));
}

// Sends `request` --repeat times; prints the last response's outputs and the latencies.
absl::Status SendRequests(Stub& stub, const inference::ModelInferRequest& request,
                          const Flags& flags) {
  std::vector<double> latencies_ms;
  inference::ModelInferResponse response;
  for (int i = 0; i < flags.repeat; ++i) {
    grpc::ClientContext context;
    response.Clear();
    auto start = std::chrono::steady_clock::now();
    grpc::Status status = stub.ModelInfer(&context, request, &response);
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (!status.ok()) return transport::FromGrpc(status);
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
  }
  absl::Status status = PrintOutputs(response, flags.print);
  if (!status.ok()) return status;
  if (flags.repeat > 1) PrintLatency(std::move(latencies_ms));
  return absl::OkStatus();
}

absl::Status Run(const Flags& flags) {
  transport::ChannelOptions options;
  options.address = flags.url;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = transport::NewChannel(options);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<Stub> stub = inference::GRPCInferenceService::NewStub(*channel);
  absl::StatusOr<inference::ModelInferRequest> request = BuildRequest(*stub, flags);
  if (!request.ok()) return request.status();
  return SendRequests(*stub, *request, flags);
}

void AddOptions(CLI::App& app, Flags& flags) {
  app.add_option("-u,--url", flags.url, "server address HOST:PORT")->capture_default_str();
  app.add_option("-m,--model", flags.model, "model name")->required();
  app.add_option("-x,--model-version", flags.version,
                 "model version (default: the server's choice)");
  app.add_option("-b,--batch-size", flags.batch,
                 "batch size, for models with max_batch_size > 0 whose inputs start with a "
                 "variable (-1) dimension (default 1)")
      ->check(CLI::PositiveNumber);
  app.add_option("--shape", flags.shapes,
                 "NAME:d1,d2,... the shape of input NAME, without the batch dimension if the "
                 "model batches; needed for inputs with variable (-1) dimensions; repeatable");
  app.add_option("--input-data", flags.input_data,
                 "zero (0, false, empty strings) or random (floats in [-1,1), integers in "
                 "[0,100), BYTES their decimal text)")
      ->check(CLI::IsMember({"zero", "random"}))
      ->capture_default_str();
  app.add_option("--seed", flags.seed, "seed of the random input data")->capture_default_str();
  app.add_option("--repeat", flags.repeat,
                 "send the request N times and print this client's mean, p50 and p99 latency")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--print", flags.print, "how many values of each output to print")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

}  // namespace
}  // namespace sonic::infer

int main(int argc, char** argv) {
  CLI::App app(
      "sonic-infer: sends an inference request (KServe v2 gRPC) to a model, with inputs made "
      "from its metadata, and prints the outputs' first values.");
  sonic::infer::Flags flags;
  sonic::infer::AddOptions(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 1;
  }
  absl::Status status = sonic::infer::Run(flags);
  if (!status.ok()) {
    std::cerr << "sonic-infer: " << absl::StatusCodeToString(status.code()) << ": "
              << status.message() << "\n";
    return 1;
  }
  return 0;
}
