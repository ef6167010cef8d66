#include "infer_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sonic::client::internal {
namespace {

using google::protobuf::internal::WireFormatLite;

// Slices are made from bytes gathered in `pending` (copied) or over a piece's own memory.
class SliceList {
 public:
  void Append(std::span<const std::byte> bytes) {
    pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  // A varint-delimited field header: `tag`, then `length`.
  void AppendFieldHeader(uint32_t tag, uint32_t length) {
    constexpr size_t kMaxVarint32Bytes = 5;  // 7 bits per byte
    uint8_t header[2 * kMaxVarint32Bytes];
    uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(tag, header);
    end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(length, end);
    pending_.append(reinterpret_cast<const char*>(header), static_cast<size_t>(end - header));
  }

  void Reference(std::span<const std::byte> bytes, const std::shared_ptr<const void>& keeper) {
    Flush();
    // gRPC never writes through a slice it sends; the pointer is non-const in its API only.
    void* data = const_cast<std::byte*>(bytes.data());
    slices_.emplace_back(data, bytes.size(), &ReleaseKeeper,
                         new std::shared_ptr<const void>(keeper));
  }

  grpc::ByteBuffer Take() {
    Flush();
    return grpc::ByteBuffer(slices_.data(), slices_.size());
  }

 private:
  static void ReleaseKeeper(void* keeper) {
    delete static_cast<std::shared_ptr<const void>*>(keeper);
  }

  void Flush() {
    if (pending_.empty()) return;
    slices_.emplace_back(pending_.data(), pending_.size());  // copies
    pending_.clear();
  }

  std::string pending_;
  std::vector<grpc::Slice> slices_;
};

}  // namespace

size_t RawContents::size() const {
  size_t total = 0;
  for (std::span<const std::byte> piece : pieces) total += piece.size();
  return total;
}

absl::StatusOr<grpc::ByteBuffer> EncodeInferRequest(const InferRequestParts& parts) {
  if (parts.message.raw_input_contents_size() != 0) {
    return absl::InvalidArgumentError(
        "the request message already holds raw contents; they travel as RawContents");
  }
  constexpr uint32_t kTag =
      WireFormatLite::MakeTag(inference::ModelInferRequest::kRawInputContentsFieldNumber,
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  std::vector<uint32_t> lengths;
  lengths.reserve(parts.raw_contents.size());
  for (size_t k = 0; k < parts.raw_contents.size(); ++k) {
    const size_t size = parts.raw_contents[k].size();
    if (size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat("the raw contents of the request's input ", k, " are ", size,
                       " bytes; a protobuf message field holds at most 2 GiB"));
    }
    lengths.push_back(static_cast<uint32_t>(size));
  }
  SliceList slices;
  const std::string message = parts.message.SerializeAsString();
  slices.Append(std::as_bytes(std::span(message.data(), message.size())));
  for (size_t k = 0; k < parts.raw_contents.size(); ++k) {
    const RawContents& contents = parts.raw_contents[k];
    slices.AppendFieldHeader(kTag, lengths[k]);
    for (std::span<const std::byte> piece : contents.pieces) {
      if (piece.size() >= kReferencedPieceBytes) {
        slices.Reference(piece, contents.keeper);
      } else {
        slices.Append(piece);
      }
    }
  }
  return slices.Take();
}

absl::Status DecodeInferResponse(grpc::ByteBuffer& body, inference::ModelInferResponse& response) {
  grpc::ProtoBufferReader reader(&body);
  if (!response.ParseFromZeroCopyStream(&reader)) {
    return absl::InternalError(absl::StrCat("the server's response (", body.Length(),
                                            " bytes) is not a ModelInferResponse"));
  }
  return absl::OkStatus();
}

}  // namespace sonic::client::internal
