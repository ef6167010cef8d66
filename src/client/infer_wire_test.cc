#include "infer_wire.h"

#include <grpcpp/support/slice.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "byte_buffer_bytes.h"

namespace sonic::client::internal {
namespace {

using sonic::testing::BytesOf;

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

InferRequestParts TwoInputs() {
  InferRequestParts parts;
  parts.message.set_model_name("m");
  (*parts.message.mutable_parameters())["priority"].set_int64_param(1);
  parts.message.add_inputs()->set_name("small");
  parts.message.add_inputs()->set_name("large");
  parts.message.add_outputs()->set_name("y");
  return parts;
}

TEST(InferWireTest, TheBytesAreThoseProtobufWritesForTheWholeMessage) {
  auto small = std::make_shared<std::string>("0123456789");
  auto large = std::make_shared<std::string>(3 * kReferencedPieceBytes, 'x');
  for (size_t i = 0; i < large->size(); i += 7) (*large)[i] = static_cast<char>(i % 251);
  InferRequestParts parts = TwoInputs();
  std::span<const std::byte> whole = Bytes(*large);
  parts.raw_contents.push_back({{Bytes(*small).first(4), Bytes(*small).subspan(4)}, small});
  // Entries of a batch: a small one between two referenced ones.
  parts.raw_contents.push_back(
      {{whole.first(kReferencedPieceBytes), whole.subspan(kReferencedPieceBytes, 5),
        whole.subspan(kReferencedPieceBytes + 5)},
       large});

  absl::StatusOr<grpc::ByteBuffer> wire = EncodeInferRequest(parts);
  ASSERT_TRUE(wire.ok()) << wire.status();

  inference::ModelInferRequest whole_message = parts.message;
  whole_message.add_raw_input_contents(*small);
  whole_message.add_raw_input_contents(*large);
  EXPECT_EQ(BytesOf(*wire), whole_message.SerializeAsString());
}

TEST(InferWireTest, EveryLayoutOfEmptySmallAndLargePiecesIsTheWholeMessage) {
  // Each input's pieces from {empty, small, large}, three pieces to an input, behind an empty
  // message or one with fields: copied runs start, end and go empty in every order.
  auto large = std::make_shared<std::string>(kReferencedPieceBytes + 3, 'L');
  const std::vector<std::span<const std::byte>> kinds = {{}, Bytes(*large).first(7), Bytes(*large)};
  for (bool empty_message : {true, false}) {
    for (int layout = 0; layout < 27; ++layout) {
      InferRequestParts parts;
      if (!empty_message) parts = TwoInputs();
      inference::ModelInferRequest whole_message = parts.message;
      for (int input = 0; input < 2; ++input) {
        RawContents& contents = parts.raw_contents.emplace_back();
        contents.keeper = large;
        std::string bytes;
        for (int piece = 0, code = layout + input; piece < 3; ++piece, code /= 3) {
          contents.pieces.push_back(kinds[code % 3]);
          bytes.append(reinterpret_cast<const char*>(kinds[code % 3].data()),
                       kinds[code % 3].size());
        }
        whole_message.add_raw_input_contents(bytes);
      }
      absl::StatusOr<grpc::ByteBuffer> wire = EncodeInferRequest(parts);
      ASSERT_TRUE(wire.ok()) << wire.status();
      EXPECT_EQ(BytesOf(*wire), whole_message.SerializeAsString())
          << "layout " << layout << (empty_message ? ", empty message" : "");
    }
  }
}

TEST(InferWireTest, LargePiecesAreReferencedAndKeptAliveByTheBuffer) {
  auto large = std::make_shared<std::string>(kReferencedPieceBytes, 'z');
  InferRequestParts parts = TwoInputs();
  parts.raw_contents.push_back({{Bytes(*large)}, large});
  const long before = large.use_count();
  std::vector<grpc::Slice> slices;
  {
    absl::StatusOr<grpc::ByteBuffer> wire = EncodeInferRequest(parts);
    ASSERT_TRUE(wire.ok()) << wire.status();
    EXPECT_EQ(large.use_count(), before + 1);  // the slice's keeper
    ASSERT_TRUE(wire->Dump(&slices).ok());
    bool referenced = false;
    for (const grpc::Slice& slice : slices) {
      referenced |= reinterpret_cast<const char*>(slice.begin()) == large->data();
    }
    EXPECT_TRUE(referenced) << "the piece was copied";
  }
  EXPECT_EQ(large.use_count(), before + 1);  // `slices` still refers to the memory
  slices.clear();
  EXPECT_EQ(large.use_count(), before);
}

TEST(InferWireTest, SmallPiecesAreCopied) {
  auto small = std::make_shared<std::string>(kReferencedPieceBytes - 1, 's');
  InferRequestParts parts = TwoInputs();
  parts.raw_contents.push_back({{Bytes(*small)}, small});
  const long before = small.use_count();
  absl::StatusOr<grpc::ByteBuffer> wire = EncodeInferRequest(parts);
  ASSERT_TRUE(wire.ok()) << wire.status();
  EXPECT_EQ(small.use_count(), before);
  EXPECT_EQ(BytesOf(*wire).substr(BytesOf(*wire).size() - small->size()), *small);
}

TEST(InferWireTest, ContentsAProtobufFieldCannotHoldAreRefused) {
  // 33 views of one 64 MiB buffer: 2.06 GiB in one input, never read.
  auto block = std::make_shared<std::vector<std::byte>>(64 << 20);
  InferRequestParts parts = TwoInputs();
  RawContents& contents = parts.raw_contents.emplace_back();
  contents.keeper = block;
  contents.pieces.assign(33, std::span<const std::byte>(*block));
  absl::StatusOr<grpc::ByteBuffer> wire = EncodeInferRequest(parts);
  ASSERT_FALSE(wire.ok());
  EXPECT_EQ(wire.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wire.status().message().find("input 0"), std::string::npos) << wire.status();
  EXPECT_NE(wire.status().message().find("2 GiB"), std::string::npos) << wire.status();
  EXPECT_EQ(block.use_count(), 2);  // nothing of it kept
}

TEST(InferWireTest, AMessageThatAlreadyHoldsRawContentsIsRefused) {
  InferRequestParts parts = TwoInputs();
  parts.message.add_raw_input_contents("x");
  EXPECT_EQ(EncodeInferRequest(parts).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(InferWireTest, ResponsesDecodeIntoAReusedMessage) {
  inference::ModelInferResponse sent;
  sent.set_model_name("m");
  sent.add_outputs()->set_name("y");
  sent.add_raw_output_contents(std::string(1 << 20, 'r'));
  const std::string bytes = sent.SerializeAsString();
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer body(&slice, 1);
  inference::ModelInferResponse received;
  received.add_raw_output_contents("left from an earlier dispatch");
  ASSERT_TRUE(DecodeInferResponse(body, received).ok());
  EXPECT_EQ(received.SerializeAsString(), bytes);

  grpc::Slice garbage("\xff\xff\xff", 3);
  grpc::ByteBuffer bad(&garbage, 1);
  absl::Status status = DecodeInferResponse(bad, received);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("not a ModelInferResponse"), std::string::npos) << status;
}

}  // namespace
}  // namespace sonic::client::internal
