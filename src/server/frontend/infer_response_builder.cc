#include "server/frontend/infer_response_builder.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "sonic/common/data_type.h"

namespace sonic::server {

void BuildInferResponse(InferenceResponse&& response, inference::ModelInferResponse& message) {
  message.set_model_name(std::move(response.model_name));
  message.set_model_version(std::to_string(response.model_version));
  message.set_id(std::move(response.id));
  const int count = static_cast<int>(response.outputs.size());
  message.mutable_outputs()->Reserve(message.outputs_size() + count);
  message.mutable_raw_output_contents()->Reserve(message.raw_output_contents_size() + count);
  for (OutputTensor& output : response.outputs) {
    inference::ModelInferResponse::InferOutputTensor* tensor = message.add_outputs();
    tensor->set_name(std::move(output.name));
    tensor->set_datatype(std::string(WireName(output.type)));
    tensor->mutable_shape()->Add(output.shape.begin(), output.shape.end());
    message.add_raw_output_contents(std::move(output.data));
  }
}

}  // namespace sonic::server

namespace sonic::server {
namespace {

// Protobuf wire tags (field number << 3 | 2: length-delimited) of the fields written.
constexpr uint8_t kModelNameTag = 0x0A;     // ModelInferResponse.model_name = 1
constexpr uint8_t kModelVersionTag = 0x12;  // .model_version = 2
constexpr uint8_t kIdTag = 0x1A;            // .id = 3
constexpr uint8_t kOutputsTag = 0x2A;       // .outputs = 5
constexpr uint8_t kRawContentsTag = 0x32;   // .raw_output_contents = 6
constexpr uint8_t kTensorNameTag = 0x0A;    // InferOutputTensor.name = 1
constexpr uint8_t kDatatypeTag = 0x12;      // .datatype = 2
constexpr uint8_t kShapeTag = 0x1A;         // .shape = 3 (packed int64)

size_t VarintSize(uint64_t value) {
  size_t size = 1;
  for (; value >= 0x80; value >>= 7) ++size;
  return size;
}

uint8_t* PutVarint(uint64_t value, uint8_t* at) {
  for (; value >= 0x80; value >>= 7) *at++ = static_cast<uint8_t>(value | 0x80);
  *at++ = static_cast<uint8_t>(value);
  return at;
}

// A length-delimited field's size on the wire; proto3 leaves out an empty string (not an empty
// element of a repeated field: `always` writes it anyway).
size_t FieldSize(size_t length, bool always = false) {
  return length == 0 && !always ? 0 : 1 + VarintSize(length) + length;
}

uint8_t* PutField(uint8_t tag, std::string_view bytes, uint8_t* at, bool always = false) {
  if (bytes.empty() && !always) return at;
  *at++ = tag;
  at = PutVarint(bytes.size(), at);
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  return at + bytes.size();
}

size_t ShapeBytes(const Shape& shape) {
  size_t size = 0;
  for (int64_t dim : shape) size += VarintSize(static_cast<uint64_t>(dim));
  return size;
}

size_t TensorBytes(const OutputTensor& output) {
  return FieldSize(output.name.size()) + FieldSize(WireName(output.type).size()) +
         FieldSize(ShapeBytes(output.shape));
}

uint8_t* PutTensor(const OutputTensor& output, uint8_t* at) {
  *at++ = kOutputsTag;
  at = PutVarint(TensorBytes(output), at);
  at = PutField(kTensorNameTag, output.name, at);
  at = PutField(kDatatypeTag, WireName(output.type), at);
  if (output.shape.empty()) return at;
  *at++ = kShapeTag;
  at = PutVarint(ShapeBytes(output.shape), at);
  for (int64_t dim : output.shape) at = PutVarint(static_cast<uint64_t>(dim), at);
  return at;
}

// A slice over an output's own bytes, which it keeps until gRPC lets go of the slice.
grpc::Slice OwningSlice(std::string&& data) {
  auto* owned = new std::string(std::move(data));
  return grpc::Slice(
      owned->data(), owned->size(), [](void* keeper) { delete static_cast<std::string*>(keeper); },
      owned);
}

}  // namespace

absl::Status EncodeInferResponse(InferenceResponse&& response, grpc::ByteBuffer& out) {
  const std::string version = std::to_string(response.model_version);
  size_t framing = FieldSize(response.model_name.size()) + FieldSize(version.size()) +
                   FieldSize(response.id.size());
  size_t total = framing;
  for (const OutputTensor& output : response.outputs) {
    framing += FieldSize(TensorBytes(output), /*always=*/true);
    const size_t data = output.data.size();
    const size_t raw = FieldSize(data, /*always=*/true);
    framing += data >= kOwnedSliceBytes ? raw - data : raw;
    total += FieldSize(TensorBytes(output), /*always=*/true) + raw;
  }
  if (total > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InternalError(
        absl::StrCat("cannot serialize the response: ", total, " bytes exceed protobuf's 2 GiB"));
  }
  // The framing (and small contents) in one slice, each large content in a slice of its own.
  grpc::Slice head(framing);
  uint8_t* at = const_cast<uint8_t*>(head.begin());
  at = PutField(kModelNameTag, response.model_name, at);
  at = PutField(kModelVersionTag, version, at);
  at = PutField(kIdTag, response.id, at);
  for (const OutputTensor& output : response.outputs) at = PutTensor(output, at);
  absl::InlinedVector<grpc::Slice, 4> slices;
  const uint8_t* written = head.begin();
  for (OutputTensor& output : response.outputs) {
    if (output.data.size() < kOwnedSliceBytes) {
      at = PutField(kRawContentsTag, output.data, at, /*always=*/true);
      continue;
    }
    *at++ = kRawContentsTag;
    at = PutVarint(output.data.size(), at);
    slices.push_back(head.sub(written - head.begin(), at - head.begin()));
    written = at;
    slices.push_back(OwningSlice(std::move(output.data)));
  }
  if (slices.empty()) {  // no large contents: the framing slice is the whole message
    out = grpc::ByteBuffer(&head, 1);
    return absl::OkStatus();
  }
  if (written != at) slices.push_back(head.sub(written - head.begin(), at - head.begin()));
  out = grpc::ByteBuffer(slices.data(), slices.size());
  return absl::OkStatus();
}

}  // namespace sonic::server
