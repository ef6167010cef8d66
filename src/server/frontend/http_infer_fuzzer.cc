// Fuzz target: an HTTP/REST infer request body (JSON, maybe followed by binary tensors) through
// ParseHttpInferRequest, and, when it parses, the resulting message through ParseInferRequest
// against one of the configurations of infer_request_fuzz_support.h, as the HTTP endpoint does.
// Input: byte 0 chooses the configuration; bytes 1-2 (little-endian) the
// Inference-Header-Content-Length, 0xffff meaning none; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "inference/grpc_service.pb.h"
#include "server/frontend/http_infer_codec.h"
#include "server/frontend/infer_request_fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sonic::server::fuzz::Fixture;
  if (size < 3) return 0;
  const auto& configs = Fixture().configs;
  const size_t model = data[0] % configs.size();
  const uint16_t length = static_cast<uint16_t>(data[1] | (data[2] << 8));
  const std::optional<size_t> header_length =
      length == 0xffff ? std::nullopt : std::optional<size_t>(length);
  const std::string_view body(reinterpret_cast<const char*>(data + 3), size - 3);

  inference::ModelInferRequest message;
  sonic::server::HttpOutputFormat format;
  if (!sonic::server::ParseHttpInferRequest(body, header_length, message, format).ok()) return 0;
  message.set_model_name(configs[model].name());
  sonic::server::fuzz::ParseAndCheck(message, model);
  return 0;
}
