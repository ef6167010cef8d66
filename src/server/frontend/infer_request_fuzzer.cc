// Fuzz target: ParseInferRequest on any ModelInferRequest, against the model configurations of
// infer_request_fuzz_support.h, with and without the client's shared-memory regions. The first
// input byte chooses the configuration, the rest is the message in protobuf binary form. Beyond
// not crashing and not reading outside the message (the sanitizers' part), an accepted request
// must be one the core can run (CheckAccepted).
#include <cstddef>
#include <cstdint>

#include "inference/grpc_service.pb.h"
#include "server/frontend/infer_request_fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sonic::server::fuzz::Fixture;
  if (size == 0) return 0;
  const auto& configs = Fixture().configs;
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
  sonic::server::fuzz::ParseAndCheck(message, data[0] % configs.size());
  return 0;
}
