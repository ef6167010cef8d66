#include "infer_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"

namespace sonic::client::internal {
namespace {

using google::protobuf::internal::WireFormatLite;

// The request's bytes as gRPC slices: runs of bytes written in place into slices of their own
// (the message, the fields' headers, small pieces) between slices over large pieces' own memory.
// Planned first (Plan*), so that each run is one allocation of its final size, then written
// (Write*) in the same order.
class SliceWriter {
 public:
  // Nothing to copy plans, or writes, nothing.
  void PlanCopy(size_t bytes) {
    if (bytes == 0) return;
    if (runs_.empty() || run_closed_) runs_.push_back(0);
    run_closed_ = false;
    runs_.back() += bytes;
  }
  void PlanReference() {
    run_closed_ = true;
    ++references_;
  }

  // Where the next `bytes` of the current run go (written by the caller).
  uint8_t* WriteCopy(size_t bytes) {
    if (bytes != 0 && cursor_ == run_end_) {
      // gRPC's own serializer writes into a fresh slice the same way: it is not yet shared. A
      // small slice holds its bytes inline, so slices_ must not move: BeginWriting reserved it.
      grpc::Slice& run = slices_.emplace_back(runs_[next_run_++]);
      cursor_ = const_cast<uint8_t*>(run.begin());
      run_end_ = cursor_ + run.size();
    }
    uint8_t* at = cursor_;
    cursor_ += bytes;
    return at;
  }
  void WriteFieldHeader(uint32_t tag, uint32_t length) {
    uint8_t* at = WriteCopy(FieldHeaderSize(tag, length));
    at = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(tag, at);
    google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(length, at);
  }
  void WriteReference(std::span<const std::byte> bytes, const std::shared_ptr<const void>& keeper) {
    // gRPC never writes through a slice it sends; the pointer is non-const in its API only.
    void* data = const_cast<std::byte*>(bytes.data());
    slices_.emplace_back(data, bytes.size(), &ReleaseKeeper,
                         new std::shared_ptr<const void>(keeper));
  }

  static size_t FieldHeaderSize(uint32_t tag, uint32_t length) {
    using google::protobuf::io::CodedOutputStream;
    return CodedOutputStream::VarintSize32(tag) + CodedOutputStream::VarintSize32(length);
  }

  void BeginWriting() { slices_.reserve(runs_.size() + references_); }
  grpc::ByteBuffer Take() { return grpc::ByteBuffer(slices_.data(), slices_.size()); }

 private:
  static void ReleaseKeeper(void* keeper) {
    delete static_cast<std::shared_ptr<const void>*>(keeper);
  }

  absl::InlinedVector<size_t, 2> runs_;  // the planned runs' sizes
  bool run_closed_ = false;              // a reference ended the last run
  size_t references_ = 0;
  size_t next_run_ = 0;
  uint8_t* cursor_ = nullptr;
  uint8_t* run_end_ = nullptr;
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
  absl::InlinedVector<uint32_t, 4> lengths;
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
  SliceWriter slices;
  const size_t message_size = parts.message.ByteSizeLong();  // cached for the write below
  slices.PlanCopy(message_size);
  for (size_t k = 0; k < parts.raw_contents.size(); ++k) {
    slices.PlanCopy(SliceWriter::FieldHeaderSize(kTag, lengths[k]));
    for (std::span<const std::byte> piece : parts.raw_contents[k].pieces) {
      if (piece.size() >= kReferencedPieceBytes) {
        slices.PlanReference();
      } else {
        slices.PlanCopy(piece.size());
      }
    }
  }
  slices.BeginWriting();
  parts.message.SerializeWithCachedSizesToArray(slices.WriteCopy(message_size));
  for (size_t k = 0; k < parts.raw_contents.size(); ++k) {
    const RawContents& contents = parts.raw_contents[k];
    slices.WriteFieldHeader(kTag, lengths[k]);
    for (std::span<const std::byte> piece : contents.pieces) {
      if (piece.size() >= kReferencedPieceBytes) {
        slices.WriteReference(piece, contents.keeper);
      } else if (!piece.empty()) {  // memcpy wants a valid pointer even for no bytes
        std::memcpy(slices.WriteCopy(piece.size()), piece.data(), piece.size());
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
