// What the request fuzz targets (infer_request_fuzzer.cc, http_infer_fuzzer.cc) share: a few
// model configurations (batching or not, variable and fixed dims, BYTES, optional inputs, a
// batch input, a reshape), a shared-memory registry with one real 4 KiB system region
// ("region0") of the client, and the check that an accepted request is one the core can run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inference/grpc_service.pb.h"
#include "inference/model_config.pb.h"
#include "server/core/inference_request.h"
#include "server/core/model_signature.h"
#include "server/shm/shared_memory_manager.h"

namespace sonic::server::fuzz {

struct RequestFuzzFixture {
  std::vector<inference::ModelConfig> configs;
  std::vector<std::unique_ptr<ModelSignature>> signatures;  // of configs, in the same order
  SharedMemoryManager registry;
  SharedMemoryClient client = SharedMemoryClient::FromAddress("127.0.0.1");

  RequestFuzzFixture();
};

// The process's fixture, made on first use.
RequestFuzzFixture& Fixture();

// Aborts unless `request`, accepted by ParseInferRequest against `config`, can run: every input
// has a concrete shape whose bytes its data view holds exactly (BYTES: its elements' length
// prefixes fill the view), leads with the batch size (within max_batch_size) when the model
// batches, and at least one output is asked for.
void CheckAccepted(const inference::ModelConfig& config, const InferenceRequest& request);

// Parses `message` against the fixture's model `model` (an index into configs), with and
// without the client's regions, checking what is accepted.
void ParseAndCheck(const inference::ModelInferRequest& message, size_t model);

// DecodeInferRequest (infer_request_view.h) on `wire` beside protobuf's parse of it. When the
// decoder takes the bytes, protobuf must parse them too, and ParseInferRequest must give the same
// status and the same request (fields, input bytes) from the decoded view as from the message,
// with `regions` and without; the view's model name and version must be the message's.
struct WireComparison {
  bool decoded = false;    // the decoder took the bytes (else they are protobuf's to parse)
  std::string difference;  // empty when both agree
};
WireComparison CompareWireDecoder(std::string_view wire, const ModelSignature& signature,
                                  const ClientRegions& regions);

}  // namespace sonic::server::fuzz
