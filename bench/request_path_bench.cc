// Scenario "request_path": what the server core spends per request between the wire message and
// the backend, for a jet-tagging-like model of 10 inputs (two groups of variable-length inputs
// tied by equal_variable_dims, an optional input, a reshaped input and output) on the built-in
// identity backend: ParseInferRequest, ValidateRequest, CanBatchTogether against the batch's
// first request, then BatchExecutor::Execute on batches of 4 (assembly, the backend's copies,
// output checks and the split back per request). No transport, no queue, no threads.
//
// Reports the time per request beside its floor, ModelInferRequest::ParseFromString of the same
// message (what any gRPC server pays to read the request at all). For an exact, noise-free
// figure run it under `valgrind --tool=callgrind` with two --requests counts: the difference of
// the instruction counts over the difference of the counts is the instructions per request.
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <CLI/CLI.hpp>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backends/identity/identity_backend.h"
#include "bench_report.h"
#include "inference/grpc_service.pb.h"
#include "server/backend/backend_model.h"
#include "server/core/batch_assembly.h"
#include "server/core/batch_executor.h"
#include "server/core/model_signature.h"
#include "server/core/model_statistics.h"
#include "server/core/request_validation.h"
#include "server/frontend/infer_request_parser.h"
#include "server/repository/model_config_loader.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

using namespace sonic::server;  // NOLINT: the whole core path is this benchmark's subject

constexpr int kBatch = 4;          // requests per execution
constexpr int kConstituents = 30;  // per jet
constexpr int kVertices = 4;       // per jet

constexpr char kConfig[] = R"pb(
  name: "request_path"
  backend: "identity"
  max_batch_size: 8
  parameters {
    key: "equal_variable_dims"
    value { string_value: "pf_points,pf_features,pf_mask;sv_points,sv_features,sv_mask" }
  }
  input {
    name: "pf_points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
  }
  input {
    name: "pf_features"
    data_type: TYPE_FP32
    dims: [ -1, 8 ]
  }
  input {
    name: "pf_mask"
    data_type: TYPE_FP32
    dims: [ -1, 1 ]
  }
  input {
    name: "sv_points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
  }
  input {
    name: "sv_features"
    data_type: TYPE_FP32
    dims: [ -1, 4 ]
  }
  input {
    name: "sv_mask"
    data_type: TYPE_FP32
    dims: [ -1, 1 ]
  }
  input {
    name: "jet_features"
    data_type: TYPE_FP32
    dims: [ 8 ]
  }
  input {
    name: "jet_id"
    data_type: TYPE_INT64
    dims: [ 1 ]
  }
  input {
    name: "extra"
    data_type: TYPE_FP32
    dims: [ 4 ]
    optional: true
  }
  input {
    name: "grid"
    data_type: TYPE_FP32
    dims: [ 4 ]
    reshape { shape: [ 2, 2 ] }
  }
  output {
    name: "out_pf_points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
  }
  output {
    name: "out_pf_features"
    data_type: TYPE_FP32
    dims: [ -1, 8 ]
  }
  output {
    name: "out_pf_mask"
    data_type: TYPE_FP32
    dims: [ -1, 1 ]
  }
  output {
    name: "out_sv_points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
  }
  output {
    name: "out_sv_features"
    data_type: TYPE_FP32
    dims: [ -1, 4 ]
  }
  output {
    name: "out_sv_mask"
    data_type: TYPE_FP32
    dims: [ -1, 1 ]
  }
  output {
    name: "out_jet_features"
    data_type: TYPE_FP32
    dims: [ 8 ]
  }
  output {
    name: "out_jet_id"
    data_type: TYPE_INT64
    dims: [ 1 ]
  }
  output {
    name: "out_extra"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }
  output {
    name: "out_grid"
    data_type: TYPE_FP32
    dims: [ 4 ]
    reshape { shape: [ 2, 2 ] }
  }
)pb";

struct Flags {
  int requests = 200000;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

// One jet as a client sends it: every input but the optional one, batch 1, raw contents, and
// the outputs that copy them.
inference::ModelInferRequest JetMessage() {
  struct Tensor {
    const char* name;
    const char* datatype;
    std::vector<int64_t> shape;
  };
  const std::vector<Tensor> tensors = {{"pf_points", "FP32", {1, kConstituents, 2}},
                                       {"pf_features", "FP32", {1, kConstituents, 8}},
                                       {"pf_mask", "FP32", {1, kConstituents, 1}},
                                       {"sv_points", "FP32", {1, kVertices, 2}},
                                       {"sv_features", "FP32", {1, kVertices, 4}},
                                       {"sv_mask", "FP32", {1, kVertices, 1}},
                                       {"jet_features", "FP32", {1, 8}},
                                       {"jet_id", "INT64", {1, 1}},
                                       {"grid", "FP32", {1, 4}}};
  inference::ModelInferRequest message;
  message.set_model_name("request_path");
  message.set_id("jet");
  for (const Tensor& tensor : tensors) {
    auto* input = message.add_inputs();
    input->set_name(tensor.name);
    input->set_datatype(tensor.datatype);
    int64_t elements = 1;
    for (int64_t dim : tensor.shape) {
      input->add_shape(dim);
      elements *= dim;
    }
    message.add_raw_input_contents(std::string(
        static_cast<size_t>(elements) * 4 * (std::strcmp(tensor.datatype, "INT64") ? 1 : 2), '\1'));
    message.add_outputs()->set_name(absl::StrCat("out_", tensor.name));
  }
  return message;
}

struct Core {
  inference::ModelConfig config;
  std::unique_ptr<const ModelSignature> signature;
  std::unique_ptr<BackendModel> model;
  std::unique_ptr<BackendInstance> instance;
  ModelStatistics stats;
  std::unique_ptr<BatchExecutor> executor;
};

absl::StatusOr<std::unique_ptr<Core>> MakeCore() {
  auto core = std::make_unique<Core>();
  SONIC_ASSIGN_OR_RETURN(core->config, ParseModelConfig(kConfig, "request_path"));
  NormalizeModelConfig(core->config);
  SONIC_ASSIGN_OR_RETURN(core->signature, ModelSignature::Create(core->config, uint64_t{1} << 26));
  SONIC_ASSIGN_OR_RETURN(core->model,
                         BackendModel::Create(backends::IdentityBackendApi(), "request_path", 1,
                                              "/nonexistent", core->config));
  SONIC_ASSIGN_OR_RETURN(core->instance, BackendInstance::Create(*core->model, "request_path_0",
                                                                 SONIC_BACKEND_INSTANCE_CPU, -1));
  core->executor = std::make_unique<BatchExecutor>(*core->signature, 1, *core->instance,
                                                   core->stats, SystemClock::Get());
  return core;
}

// Runs `count` copies of `message` through the core path; fails on the first request refused.
absl::Status RunRequests(Core& core, const inference::ModelInferRequest& message, int count) {
  absl::Status failed;
  Batch batch;
  auto execute = [&] {
    core.executor->Execute(std::move(batch));
    batch.clear();
  };
  for (int i = 0; i < count && failed.ok(); ++i) {
    auto request = std::make_unique<InferenceRequest>();
    SONIC_RETURN_IF_ERROR(ParseInferRequest(message, *core.signature, *request));
    SONIC_RETURN_IF_ERROR(ValidateRequest(*core.signature, *request));
    request->on_complete = [&failed](absl::StatusOr<InferenceResponse> response) {
      if (!response.ok() && failed.ok()) failed = response.status();
    };
    if (!batch.empty() && !CanBatchTogether(*core.signature, *batch.front(), *request)) {
      return absl::InternalError("two copies of one request cannot be batched together");
    }
    batch.push_back(std::move(request));
    if (batch.size() == kBatch) execute();
  }
  if (!batch.empty()) execute();
  return failed;
}

absl::Status Run(const Flags& flags) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<Core> core, MakeCore());
  const inference::ModelInferRequest message = JetMessage();
  const int count = flags.quick ? 1000 : flags.requests;
  SONIC_RETURN_IF_ERROR(RunRequests(*core, message, kBatch * 10));  // warm-up
  absl::Time start = absl::Now();
  SONIC_RETURN_IF_ERROR(RunRequests(*core, message, count));
  const double core_ns = absl::ToDoubleNanoseconds(absl::Now() - start) / count;

  const std::string wire = message.SerializeAsString();
  inference::ModelInferRequest parsed;
  start = absl::Now();
  for (int i = 0; i < count; ++i) {
    if (!parsed.ParseFromString(wire)) return absl::InternalError("the message does not parse");
  }
  const double floor_ns = absl::ToDoubleNanoseconds(absl::Now() - start) / count;

  BenchReport report("request_path");
  report.AddComparison("core path per request", core_ns, "ns", "protobuf parse of the request",
                       floor_ns);
  report.AddNote("model",
                 "10 inputs (9 sent: 6 of variable length in 2 equal_variable_dims "
                 "groups, one reshaped), 10 outputs, identity backend, max_batch_size 8");
  report.AddNote("path", absl::StrCat("ParseInferRequest, ValidateRequest, CanBatchTogether, "
                                      "BatchExecutor::Execute on batches of ",
                                      kBatch, "; ", count, " requests, one thread"));
  report.AddNote("quick", flags.quick ? "true (smoke run, figures meaningless)" : "false");
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/request_path.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("The server core's per-request path, parser to backend and back, in-process");
  app.add_option("--requests", flags.requests, "Requests measured")
      ->check(CLI::Range(1, 100000000));
  app.add_flag("--quick", flags.quick, "1000 requests (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for request_path.json");
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "request_path benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
