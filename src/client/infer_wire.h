// ModelInfer messages as the client puts them on the wire and takes them off it.
//
// A request's tensors are sent without copying them: the request's other fields are serialized
// by protobuf, and each input's raw contents follow as a length-delimited raw_input_contents
// field whose bytes are gRPC slices over the input's own memory (pieces of at least
// kReferencedPieceBytes; smaller ones are copied beside the framing, which is cheaper than a
// slice of their own). raw_input_contents is the message's last field, so the bytes are exactly
// those protobuf writes for the whole message: any parser reads them as one ModelInferRequest.
// The raw stub path copies each tensor twice (into the message, then into gRPC's buffer); this
// copies none.
//
// Thread-compatible; the memory a piece views must stay unchanged while any buffer holding it
// lives, which its keeper guarantees for the lifetime (the client's contract: an input's data is
// not modified after toServer()).
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/grpc_service.pb.h"

namespace sonic::client::internal {

// Pieces from this size on travel as slices over their own memory.
inline constexpr size_t kReferencedPieceBytes = 32 << 10;

// The raw contents of one input: its bytes in pieces (the batch's entries, in order), and what
// keeps them alive for as long as gRPC holds a slice over them.
struct RawContents {
  std::vector<std::span<const std::byte>> pieces;
  std::shared_ptr<const void> keeper;

  size_t size() const;
};

// A request in the two parts it is built in: `message` without raw_input_contents, and the
// raw contents of the inputs that carry them, in the order of `message.inputs()`.
struct InferRequestParts {
  inference::ModelInferRequest message;
  std::vector<RawContents> raw_contents;
};

// The serialized request (see above). INVALID_ARGUMENT when `parts.message` already has raw
// contents, or when one input's contents exceed the 2 GiB a protobuf field can hold.
absl::StatusOr<grpc::ByteBuffer> EncodeInferRequest(const InferRequestParts& parts);

// Parses a serialized response into `response` (cleared first; its buffers are reused).
// INTERNAL when the bytes are not a ModelInferResponse.
absl::Status DecodeInferResponse(grpc::ByteBuffer& body, inference::ModelInferResponse& response);

}  // namespace sonic::client::internal
