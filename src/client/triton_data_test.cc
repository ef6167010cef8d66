#include "sonic/client/triton_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io_access.h"
#include "sonic/client/client_error.h"

namespace sonic::client {
namespace {

using internal::IoAccess;
using ::testing::HasSubstr;

TritonInputData MakeInput(DataType type, Shape dims, size_t batch = 1) {
  TritonInputData input(TensorInfo{"x", type, std::move(dims), true, false, false},
                        "model 'm' on server 's'");
  IoAccess::SetBatchSize(input, batch);
  return input;
}

std::string Bytes(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(TritonInputDataTest, OnlyVariableDimensionsCanBeSet) {
  TritonInputData input = MakeInput(DataType::kFp32, {4, -1});
  EXPECT_TRUE(input.variableDims());
  EXPECT_TRUE(input.setShape({4, 7}).ok());
  EXPECT_EQ(input.shape(), (Shape{4, 7}));

  absl::Status fixed = input.setShape({5, 7});
  EXPECT_EQ(GetErrorCategory(fixed), ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(fixed.message()), HasSubstr("dimension 0 is fixed at 4"));
  EXPECT_THAT(std::string(fixed.message()), HasSubstr("input 'x'"));
  EXPECT_THAT(std::string(fixed.message()), HasSubstr("model 'm'"));
  EXPECT_THAT(std::string(input.setShape({4}).message()), HasSubstr("rank"));
  EXPECT_THAT(std::string(input.setShape({4, -1}).message()), HasSubstr("must be set"));
  EXPECT_EQ(input.setShape({4, 1}, 3).code(), absl::StatusCode::kOutOfRange);
}

TEST(TritonInputDataTest, NewEntriesTakeTheLastCommonShape) {
  TritonInputData input = MakeInput(DataType::kFp32, {-1}, 2);
  ASSERT_TRUE(input.setShape({3}).ok());
  ASSERT_TRUE(input.setShape({5}, 1).ok());
  IoAccess::SetBatchSize(input, 3);
  EXPECT_EQ(input.shape(0), (Shape{3}));
  EXPECT_EQ(input.shape(1), (Shape{5}));
  EXPECT_EQ(input.shape(2), (Shape{3}));
}

TEST(TritonInputDataTest, SetShapeByLocationAsCmsModulesDo) {
  TritonInputData input = MakeInput(DataType::kFp32, {2, -1, -1}, 3);
  EXPECT_EQ(input.sizeDims(), -1);
  EXPECT_EQ(input.sizeShape(), -1);  // variable dimensions unset
  ASSERT_TRUE(input.setShape(1, 5).ok());
  EXPECT_EQ(input.shape(2), (Shape{2, 5, -1}));  // every entry; the others stay unset
  ASSERT_TRUE(input.setShape(2, 3).ok());
  ASSERT_TRUE(input.setShape(2, 7, 1).ok());  // one entry
  EXPECT_EQ(input.shape(0), (Shape{2, 5, 3}));
  EXPECT_EQ(input.shape(1), (Shape{2, 5, 7}));
  EXPECT_EQ(input.sizeShape(0), 30);
  EXPECT_EQ(input.sizeShape(1), 70);
  EXPECT_EQ(input.sizeShape(3), -1);  // out of range
  ASSERT_TRUE(input.setShape(0, 2).ok());  // a fixed dimension at its own value
  EXPECT_THAT(std::string(input.setShape(0, 3).message()), HasSubstr("dimension 0 is fixed at 2"));
  EXPECT_EQ(input.setShape(3, 1).code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(input.setShape(3, 1).message()), HasSubstr("rank 3"));
  EXPECT_EQ(input.setShape(1, 1, 3).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(GetErrorCategory(input.setShape(1, -2)), ErrorCategory::kBadInput);
  // A braced shape with an entry is a shape, not a location and a value.
  ASSERT_TRUE(input.setShape({2, 4, 4}, 2).ok());
  EXPECT_EQ(input.shape(2), (Shape{2, 4, 4}));
}

TEST(TritonInputDataTest, DescribesItsTypeAndSizesAsCmssw) {
  TritonInputData fixed = MakeInput(DataType::kFp64, {3, 4});
  EXPECT_EQ(fixed.dname(), "FP64");
  EXPECT_EQ(fixed.byteSize(), 8);
  EXPECT_EQ(fixed.sizeDims(), 12);
  EXPECT_EQ(fixed.sizeShape(), 12);
  TritonInputData strings = MakeInput(DataType::kBytes, {-1});
  EXPECT_EQ(strings.dname(), "BYTES");
  EXPECT_EQ(strings.byteSize(), 0);
  TritonOutputData output(TensorInfo{"y", DataType::kInt16, {-1, 2}, true, false, false}, "m");
  EXPECT_EQ(output.dname(), "INT16");
  EXPECT_EQ(output.byteSize(), 2);
  EXPECT_TRUE(output.variableDims());
  EXPECT_EQ(output.sizeDims(), -1);
  IoAccess::ClearEntries(output, 1);
  const std::vector<std::byte> bytes(12);
  IoAccess::SetEntry(output, 0, {3, 2}, bytes, {});
  EXPECT_EQ(output.sizeShape(0), -1);  // not published yet
  IoAccess::Publish(output);
  EXPECT_EQ(output.sizeShape(0), 6);
}

TEST(TritonInputDataTest, AllocateChecksTheElementType) {
  TritonInputData input = MakeInput(DataType::kFp32, {4}, 3);
  absl::StatusOr<TritonInputContainer<int32_t>> wrong = input.allocate<int32_t>();
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(GetErrorCategory(wrong.status()), ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("datatype is FP32"));
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("INT32"));
  absl::StatusOr<TritonInputContainer<float>> right = input.allocate<float>();
  ASSERT_TRUE(right.ok());
  ASSERT_EQ((*right)->size(), 3u);
  EXPECT_GE((**right)[0].capacity(), 4u);
}

TEST(TritonInputDataTest, ToServerChecksSizesAndIsOncePerEvent) {
  TritonInputData input = MakeInput(DataType::kFp32, {-1}, 2);
  auto data = *input.allocate<float>();
  (*data)[0] = {1, 2};
  (*data)[1] = {3, 4};
  EXPECT_THAT(std::string(input.toServer(data).message()), HasSubstr("setShape"));  // variable dim unset
  ASSERT_TRUE(input.setShape({2}).ok());
  (*data)[1].push_back(5);
  EXPECT_THAT(std::string(input.toServer(data).message()), HasSubstr("entry 1 holds 3 elements"));
  (*data)[1].pop_back();
  auto short_batch = std::make_shared<TritonInput<float>>(1);
  EXPECT_THAT(std::string(input.toServer(short_batch).message()), HasSubstr("batch size is 2"));
  EXPECT_FALSE(input.hasData());

  ASSERT_TRUE(input.toServer(data).ok());
  EXPECT_TRUE(input.hasData());
  absl::Status twice = input.toServer(data);
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(twice.message()), HasSubstr("already called"));
  EXPECT_THAT(std::string(input.setShape({3}).message()), HasSubstr("after toServer"));

  // Zero copy: the views point into the module's vectors.
  EXPECT_EQ(IoAccess::EntryBytes(input)[1].data(),
            reinterpret_cast<const std::byte*>((*data)[1].data()));
  IoAccess::Reset(input);
  EXPECT_FALSE(input.hasData());
  EXPECT_TRUE(input.toServer(data).ok());
}

TEST(TritonInputDataTest, StringsAndBoolsAreSerializedToTheWireLayout) {
  TritonInputData strings = MakeInput(DataType::kBytes, {-1});
  ASSERT_TRUE(strings.setShape({2}).ok());
  auto text = *strings.allocate<std::string>();
  (*text)[0] = {"ab", ""};
  ASSERT_TRUE(strings.toServer(text).ok());
  EXPECT_EQ(Bytes(IoAccess::EntryBytes(strings)[0]), std::string("\2\0\0\0ab\0\0\0\0", 10));

  TritonInputData bools = MakeInput(DataType::kBool, {3});
  auto flags = *bools.allocate<bool>();
  (*flags)[0] = {true, false, true};
  ASSERT_TRUE(bools.toServer(flags).ok());
  EXPECT_EQ(Bytes(IoAccess::EntryBytes(bools)[0]), std::string("\1\0\1", 3));

  TritonInputData half = MakeInput(DataType::kFp16, {1});
  EXPECT_TRUE(half.allocate<Float16>().ok());
  EXPECT_FALSE(half.allocate<BFloat16>().ok());
}

TEST(TritonOutputDataTest, ReadingBeforeCompletionIsAnError) {
  TritonOutputData output(TensorInfo{"y", DataType::kFp32, {2}, true, false, false}, "model 'm'");
  absl::StatusOr<TritonOutput<float>> early = output.fromServer<float>();
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(early.status().message()), HasSubstr("output 'y'"));
  EXPECT_THAT(std::string(early.status().message()), HasSubstr("before a dispatch completed"));
}

TEST(TritonOutputDataTest, ViewsAreZeroCopyAndTyped) {
  TritonOutputData output(TensorInfo{"y", DataType::kFp32, {2}, true, false, false}, "model 'm'");
  alignas(8) float values[4] = {1, 2, 3, 4};
  std::span<const std::byte> bytes = std::as_bytes(std::span(values));
  IoAccess::ClearEntries(output, 2);
  IoAccess::SetEntry(output, 0, {2}, bytes.subspan(0, 8), {});
  IoAccess::SetEntry(output, 1, {2}, bytes.subspan(8, 8), {});
  IoAccess::Publish(output);

  absl::StatusOr<TritonOutput<float>> views = output.fromServer<float>();
  ASSERT_TRUE(views.ok()) << views.status();
  ASSERT_EQ(views->size(), 2u);
  EXPECT_EQ((*views)[1].data(), &values[2]);
  EXPECT_EQ((*views)[1][1], 4.0f);
  EXPECT_EQ(*output.shape(1), (Shape{2}));
  EXPECT_THAT(std::string(output.fromServer<double>().status().message()), HasSubstr("read as FP64"));

  IoAccess::Reset(output);
  EXPECT_FALSE(output.isReady());
  EXPECT_FALSE(output.fromServer<float>().ok());
}

TEST(TritonOutputDataTest, MisalignedBytesAreCopiedRatherThanMisread) {
  TritonOutputData output(TensorInfo{"y", DataType::kFp64, {1}, false, false, false}, "m");
  alignas(8) char buffer[16] = {};
  const double value = 2.5;
  std::memcpy(buffer + 1, &value, sizeof(value));
  IoAccess::ClearEntries(output, 1);
  IoAccess::SetEntry(output, 0, {1},
                     std::as_bytes(std::span(buffer + 1, sizeof(double))), {});
  IoAccess::Publish(output);
  absl::StatusOr<TritonOutput<double>> views = output.fromServer<double>();
  ASSERT_TRUE(views.ok());
  EXPECT_EQ((*views)[0][0], 2.5);
}

}  // namespace
}  // namespace sonic::client
