#include "server/frontend/infer_request_fuzz_support.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "google/protobuf/text_format.h"
#include "server/frontend/infer_request_parser.h"
#include "server/frontend/infer_request_view.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic::server::fuzz {
namespace {

constexpr const char* kConfigs[] = {
    R"pb(name: "mlp" max_batch_size: 8
         input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
         output [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] } ])pb",
    R"pb(name: "ragged" max_batch_size: 16
         input [ { name: "points" data_type: TYPE_FP32 dims: [ -1, 3 ] allow_ragged_batch: true },
                 { name: "mask" data_type: TYPE_INT64 dims: [ -1 ] optional: true } ]
         output [ { name: "score" data_type: TYPE_FP32 dims: [ 1 ] } ]
         batch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT target_name: "offsets"
                         data_type: TYPE_INT32 source_input: "points" } ])pb",
    R"pb(name: "strings" max_batch_size: 0
         input [ { name: "text" data_type: TYPE_STRING dims: [ -1 ] },
                 { name: "flag" data_type: TYPE_BOOL dims: [ 1 ] } ]
         output [ { name: "length" data_type: TYPE_INT32 dims: [ -1 ] } ])pb",
    R"pb(name: "halves" max_batch_size: 4
         input [ { name: "a" data_type: TYPE_FP16 dims: [ 2, 2 ] },
                 { name: "b" data_type: TYPE_UINT8 dims: [ -1 ] reshape: { shape: [ -1, 1 ] } } ]
         output [ { name: "c" data_type: TYPE_FP64 dims: [ 2 ] } ])pb",
};

}  // namespace

RequestFuzzFixture::RequestFuzzFixture() {
  for (const char* text : kConfigs) {
    inference::ModelConfig config;
    if (!google::protobuf::TextFormat::ParseFromString(text, &config)) std::abort();
    absl::StatusOr<std::unique_ptr<ModelSignature>> signature =
        ModelSignature::Create(config, uint64_t{1} << 26);
    if (!signature.ok()) std::abort();
    signatures.push_back(*std::move(signature));
    configs.push_back(std::move(config));
  }
  // One real system region, "region0": the key is unlinked once mapped.
  const std::string key = "/sonic_fuzz_" + std::to_string(getpid());
  const int fd = shm_open(key.c_str(), O_CREAT | O_RDWR | O_EXCL, 0600);
  if (fd < 0 || ftruncate(fd, 4096) != 0) std::abort();
  close(fd);
  const absl::Status registered = registry.Register(client, "region0", key, 0, 4096);
  shm_unlink(key.c_str());
  if (!registered.ok()) {
    std::fprintf(stderr, "fuzz fixture: %s\n", registered.ToString().c_str());
    std::abort();
  }
}

RequestFuzzFixture& Fixture() {
  static RequestFuzzFixture* fixture = new RequestFuzzFixture();
  return *fixture;
}

void CheckAccepted(const inference::ModelConfig& config, const InferenceRequest& request) {
  if (config.max_batch_size() > 0 &&
      (request.batch_size < 1 || request.batch_size > config.max_batch_size())) {
    std::abort();
  }
  for (const auto& input : request.inputs) {
    if (!IsConcrete(input.shape)) std::abort();
    const absl::StatusOr<int64_t> count = ElementCount(input.shape);
    if (!count.ok()) std::abort();
    if (config.max_batch_size() > 0 &&
        (input.shape.empty() || input.shape.front() != request.batch_size)) {
      std::abort();
    }
    if (input.type == DataType::kBytes) {
      // Length-prefixed elements that fill the view exactly.
      size_t offset = 0;
      for (int64_t i = 0; i < *count; ++i) {
        if (input.data.size() - offset < 4) std::abort();
        uint32_t length = 0;
        std::memcpy(&length, input.data.data() + offset, 4);
        offset += 4;
        if (input.data.size() - offset < length) std::abort();
        offset += length;
      }
      if (offset != input.data.size()) std::abort();
    } else if (input.data.size() !=
               static_cast<uint64_t>(*count) * ElementSize(input.type)) {
      std::abort();
    }
  }
  if (request.outputs.empty()) std::abort();
}

void ParseAndCheck(const inference::ModelInferRequest& message, size_t model) {
  RequestFuzzFixture& fixture = Fixture();
  const inference::ModelConfig& config = fixture.configs.at(model);
  const ModelSignature& signature = *fixture.signatures.at(model);
  InferenceRequest request;
  std::vector<SharedMemoryOutput> shm_outputs;
  const ClientRegions regions(fixture.registry, fixture.client);
  if (ParseInferRequest(message, signature, regions, request, shm_outputs).ok()) {
    CheckAccepted(config, request);
  }
  InferenceRequest plain;
  if (ParseInferRequest(message, signature, plain).ok()) CheckAccepted(config, plain);
}

namespace {

std::string BytesOf(std::span<const std::byte> data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

// What differs between two requests ParseInferRequest filled; empty when nothing does.
std::string RequestDifference(const InferenceRequest& a, const InferenceRequest& b) {
  if (a.id != b.id) return "id";
  if (a.batch_size != b.batch_size) return "batch_size";
  if (a.priority != b.priority) return "priority";
  if (a.timeout_us != b.timeout_us) return "timeout_us";
  if (a.owned_data.size() != b.owned_data.size()) return "owned_data";
  if (a.held_resources.size() != b.held_resources.size()) return "held_resources";
  if (a.inputs.size() != b.inputs.size()) return "input count";
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const RequestInput& x = a.inputs[i];
    const RequestInput& y = b.inputs[i];
    if (x.name != y.name || x.type != y.type || x.shape != y.shape ||
        BytesOf(x.data) != BytesOf(y.data)) {
      return "input " + std::to_string(i);
    }
  }
  if (a.outputs.size() != b.outputs.size()) return "output count";
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    if (a.outputs[i].name != b.outputs[i].name ||
        a.outputs[i].classification != b.outputs[i].classification) {
      return "output " + std::to_string(i);
    }
  }
  return "";
}

std::string StatusDifference(const absl::Status& message, const absl::Status& view) {
  if (message == view) return "";
  return "protobuf path: " + message.ToString() + "; wire path: " + view.ToString();
}

}  // namespace

WireComparison CompareWireDecoder(std::string_view wire, const ModelSignature& signature,
                                  const ClientRegions& regions) {
  WireComparison result;
  InferRequestView view;
  result.decoded = DecodeInferRequest(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(wire.data()), wire.size()),
      view);
  if (!result.decoded) return result;
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    result.difference = "decoded bytes that protobuf does not parse";
    return result;
  }
  if (view.model_name != message.model_name() || view.model_version != message.model_version()) {
    result.difference = "model name or version";
    return result;
  }
  InferenceRequest from_message;
  InferenceRequest from_view;
  result.difference = StatusDifference(ParseInferRequest(message, signature, from_message),
                                       ParseInferRequest(view, signature, from_view));
  if (result.difference.empty()) result.difference = RequestDifference(from_message, from_view);
  if (!result.difference.empty()) return result;
  InferenceRequest shm_message;
  InferenceRequest shm_view;
  std::vector<SharedMemoryOutput> outputs_message;
  std::vector<SharedMemoryOutput> outputs_view;
  result.difference = StatusDifference(
      ParseInferRequest(message, signature, regions, shm_message, outputs_message),
      ParseInferRequest(view, signature, regions, shm_view, outputs_view));
  if (result.difference.empty()) result.difference = RequestDifference(shm_message, shm_view);
  if (result.difference.empty() && outputs_message.size() != outputs_view.size()) {
    result.difference = "shared-memory outputs";
  }
  return result;
}

}  // namespace sonic::server::fuzz
