// Fuzz target: ParseInferRequest on any ModelInferRequest, against the model configurations of
// infer_request_fuzz_support.h, with and without the client's shared-memory regions. The first
// input byte chooses the configuration, the rest is the message in protobuf binary form. Beyond
// not crashing and not reading outside the message (the sanitizers' part), an accepted request
// must be one the core can run (CheckAccepted), and the unary gRPC path's own decoder of the
// wire bytes (DecodeInferRequest) must, whenever it takes them, give what protobuf's parse gives
// (CompareWireDecoder).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "inference/grpc_service.pb.h"
#include "server/frontend/infer_request_fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sonic::server::fuzz::Fixture;
  if (size == 0) return 0;
  auto& fixture = Fixture();
  const size_t model = data[0] % fixture.configs.size();
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  const sonic::server::fuzz::WireComparison compared = sonic::server::fuzz::CompareWireDecoder(
      wire, *fixture.signatures[model],
      sonic::server::ClientRegions(fixture.registry, fixture.client));
  if (!compared.difference.empty()) {
    std::fprintf(stderr, "wire decoder differs from protobuf: %s\n", compared.difference.c_str());
    std::abort();
  }
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) return 0;
  sonic::server::fuzz::ParseAndCheck(message, model);
  return 0;
}
