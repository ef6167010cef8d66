#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"
#include "sonic/common/tensor_view.h"
#include "sonic/common/utf8.h"

namespace sonic {
namespace {

TEST(DataTypeTest, NamesRoundTrip) {
  for (int32_t n = 1; n <= 14; ++n) {
    DataType type = *DataTypeFromNumber(n);
    EXPECT_EQ(DataTypeFromWireName(WireName(type)), type);
    EXPECT_EQ(DataTypeFromConfigName(ConfigName(type)), type);
  }
  EXPECT_EQ(WireName(DataType::kBytes), "BYTES");
  EXPECT_EQ(ConfigName(DataType::kBytes), "TYPE_STRING");
  EXPECT_EQ(DataTypeFromWireName("FP33"), std::nullopt);
  EXPECT_EQ(DataTypeFromWireName("INVALID"), std::nullopt);
  EXPECT_EQ(DataTypeFromNumber(15), std::nullopt);
  EXPECT_EQ(DataTypeFromNumber(0), std::nullopt);
}

TEST(DataTypeTest, ElementSizesAndCppTypes) {
  EXPECT_EQ(ElementSize(DataType::kBool), 1u);
  EXPECT_EQ(ElementSize(DataType::kFp16), 2u);
  EXPECT_EQ(ElementSize(DataType::kBf16), 2u);
  EXPECT_EQ(ElementSize(DataType::kInt64), 8u);
  EXPECT_EQ(ElementSize(DataType::kBytes), 0u);
  static_assert(DataTypeOf<float>() == DataType::kFp32);
  static_assert(DataTypeOf<const int64_t>() == DataType::kInt64);
  static_assert(DataTypeOf<bool>() == DataType::kBool);
}

TEST(ShapeTest, ElementCount) {
  EXPECT_EQ(*ElementCount(Shape{}), 1);
  EXPECT_EQ(*ElementCount(Shape{2, 3, 4}), 24);
  EXPECT_EQ(*ElementCount(Shape{2, 0}), 0);
  EXPECT_FALSE(ElementCount(Shape{2, -1}).ok());
  EXPECT_FALSE(ElementCount(Shape{1LL << 40, 1LL << 40}).ok());
}

TEST(ShapeTest, MatchesDims) {
  EXPECT_TRUE(MatchesDims(Shape{-1, 3}, Shape{7, 3}));
  EXPECT_FALSE(MatchesDims(Shape{-1, 3}, Shape{7, 4}));
  EXPECT_FALSE(MatchesDims(Shape{-1, 3}, Shape{7, 3, 1}));
  EXPECT_EQ(ShapeToString(Shape{2, -1}), "[2,-1]");
  EXPECT_FALSE(IsConcrete(Shape{2, -1}));
}

TEST(ShapeTest, ResolveDims) {
  EXPECT_EQ(*ResolveDims(Shape{-1, 4}, 12), (Shape{3, 4}));
  EXPECT_EQ(*ResolveDims(Shape{2, 6}, 12), (Shape{2, 6}));
  EXPECT_FALSE(ResolveDims(Shape{-1, 5}, 12).ok());
  EXPECT_FALSE(ResolveDims(Shape{-1, -1}, 12).ok());
  EXPECT_FALSE(ResolveDims(Shape{2, 5}, 12).ok());
}

std::string SerializeStrings(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    uint32_t len = s.size();
    out.append(reinterpret_cast<const char*>(&len), 4);
    out += s;
  }
  return out;
}

std::span<const std::byte> AsBytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(TensorViewTest, CreateChecksSize) {
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  auto bytes = std::as_bytes(std::span<const float>(values));
  auto view = TensorView::Create(DataType::kFp32, Shape{2, 3}, bytes);
  ASSERT_TRUE(view.ok()) << view.status();
  auto floats = view->As<float>();
  ASSERT_TRUE(floats.ok());
  EXPECT_EQ((*floats)[5], 6.0f);
  EXPECT_EQ(view->ElementAt<float>(4), 5.0f);
  EXPECT_FALSE(view->As<int32_t>().ok());

  EXPECT_FALSE(TensorView::Create(DataType::kInt32, Shape{1, 1LL << 62}, {}).ok());
  auto wrong = TensorView::Create(DataType::kFp32, Shape{2, 2}, bytes);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("needs 16 bytes, got 24"), std::string::npos);
}

TEST(TensorViewTest, BytesElements) {
  std::string data = SerializeStrings({"ab", "", "xyz"});
  EXPECT_TRUE(TensorView::Create(DataType::kBytes, Shape{3}, AsBytes(data)).ok());
  EXPECT_FALSE(TensorView::Create(DataType::kBytes, Shape{2}, AsBytes(data)).ok());
  std::vector<std::string> seen;
  ForEachSerializedString(AsBytes(data), [&](std::string_view s) { seen.emplace_back(s); });
  EXPECT_EQ(seen, (std::vector<std::string>{"ab", "", "xyz"}));

  std::string truncated = data.substr(0, data.size() - 1);
  EXPECT_FALSE(CountSerializedStrings(AsBytes(truncated)).ok());
}

absl::Status FailsWith(absl::Status s) {
  SONIC_RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

absl::StatusOr<int> Doubled(absl::StatusOr<int> v) {
  SONIC_ASSIGN_OR_RETURN(int x, v);
  return 2 * x;
}

TEST(StatusTest, Macros) {
  EXPECT_TRUE(FailsWith(absl::OkStatus()).ok());
  EXPECT_EQ(FailsWith(absl::NotFoundError("x")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*Doubled(21), 42);
  EXPECT_EQ(Doubled(absl::InternalError("bad")).status().message(), "bad");
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("")));
  EXPECT_EQ(Annotate(absl::InvalidArgumentError("bad dims"), "model 'm'").message(),
            "model 'm': bad dims");
}

TEST(StatusTest, QuotedNamesStaySmall) {
  EXPECT_EQ(Quoted("mlp"), "mlp");
  EXPECT_EQ(Quoted(std::string(kMaxQuotedBytes, 'x')), std::string(kMaxQuotedBytes, 'x'));
  EXPECT_EQ(Quoted(std::string(10000, 'x')), std::string(kMaxQuotedBytes, 'x') + "...");
  // "é" is two bytes: a cut inside it backs up to the character before.
  EXPECT_EQ(Truncated("abé", 3), "ab...");
  EXPECT_EQ(Truncated("abé", 4), "abé");
}

TEST(Utf8Test, WellFormedTextHasNoInvalidByte) {
  EXPECT_EQ(FirstInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("jet_pt"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x8F\xBF\xBF"), std::nullopt);  // U+10FFFF
}

TEST(Utf8Test, MalformedSequencesAreFoundWhereTheyStart) {
  EXPECT_EQ(FirstInvalidUtf8("ab\x80"), 2u);                 // a lone continuation byte
  EXPECT_EQ(FirstInvalidUtf8("a\xC3"), 1u);                  // cut short
  EXPECT_EQ(FirstInvalidUtf8("\xC0\xAF"), 0u);              // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("x\xE0\x80\xAF"), 1u);        // overlong three-byte form
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\x80"), 0u);         // a surrogate
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("ok\xFF"), 2u);
}

}  // namespace
}  // namespace sonic
