// Triton's classification extension: top-k strings per batch entry, with and without labels.
#include "server/frontend/classification.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace sonic::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T>
OutputTensor Tensor(DataType type, Shape shape, std::vector<T> values) {
  OutputTensor tensor{"probs", type, std::move(shape),
                      std::string(values.size() * sizeof(T), '\0')};
  std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

std::vector<std::string> Strings(const std::string& data) {
  std::vector<std::string> strings;
  for (size_t at = 0; at + 4 <= data.size();) {
    uint32_t size;
    std::memcpy(&size, data.data() + at, 4);
    strings.push_back(data.substr(at + 4, size));
    at += 4 + size;
  }
  return strings;
}

TEST(ClassificationTest, TopKPerBatchEntryHighestFirst) {
  OutputTensor tensor =
      Tensor<float>(DataType::kFp32, {2, 4}, {0.1f, 0.7f, 0.2f, 0.7f, 3.0f, -1.0f, 2.0f, 0.0f});
  ASSERT_TRUE(Classify(tensor, 2, /*batched=*/true, nullptr).ok());
  EXPECT_EQ(tensor.type, DataType::kBytes);
  EXPECT_EQ(tensor.shape, (Shape{2, 2}));
  // Ties keep the lower index first.
  EXPECT_THAT(Strings(tensor.data),
              ElementsAre("0.700000:1", "0.700000:3", "3.000000:0", "2.000000:2"));
}

TEST(ClassificationTest, LabelsAndACapAtTheClassCount) {
  const std::vector<std::string> labels = {"cat", "dog", "bird"};
  OutputTensor tensor = Tensor<int32_t>(DataType::kInt32, {3}, {5, 9, 7});
  ASSERT_TRUE(Classify(tensor, 10, /*batched=*/false, &labels).ok());
  EXPECT_EQ(tensor.shape, (Shape{3}));
  EXPECT_THAT(Strings(tensor.data), ElementsAre("9:1:dog", "7:2:bird", "5:0:cat"));
}

TEST(ClassificationTest, TypesWithoutAnOrderAreRefused) {
  OutputTensor tensor = Tensor<uint8_t>(DataType::kBool, {2}, {0, 1});
  absl::Status status = Classify(tensor, 1, false, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'probs'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("BOOL"));
}

}  // namespace
}  // namespace sonic::server
