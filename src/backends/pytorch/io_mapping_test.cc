#include "backends/pytorch/io_mapping.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sonic::backends::pytorch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Names = std::vector<std::string>;

TEST(ConventionIndexTest, ParsesTrailingIndex) {
  EXPECT_EQ(ConventionIndex("INPUT__0"), 0);
  EXPECT_EQ(ConventionIndex("my__input__12"), 12);
  EXPECT_EQ(ConventionIndex("INPUT_0"), std::nullopt);
  EXPECT_EQ(ConventionIndex("INPUT__"), std::nullopt);
  EXPECT_EQ(ConventionIndex("INPUT__x1"), std::nullopt);
  EXPECT_EQ(ConventionIndex("INPUT__-1"), std::nullopt);
}

TEST(MapInputsTest, ByNameWhenArgumentNamesMatch) {
  absl::StatusOr<InputMapping> mapping = MapInputs(Names{"b", "a"}, Names{"a", "b"});
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(mapping->matching, InputMatching::kByName);
  EXPECT_THAT(mapping->argument_to_input, ElementsAre(1, 0));
}

TEST(MapInputsTest, ByConventionIndexOtherwise) {
  absl::StatusOr<InputMapping> mapping = MapInputs(Names{"x", "y"}, Names{"INPUT__1", "INPUT__0"});
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(mapping->matching, InputMatching::kByConventionIndex);
  EXPECT_THAT(mapping->argument_to_input, ElementsAre(1, 0));
}

TEST(MapInputsTest, ByConfigOrderAsLastResort) {
  // Index 5 is out of range, so the convention does not apply.
  absl::StatusOr<InputMapping> mapping = MapInputs(Names{"x", "y"}, Names{"IN__5", "other"});
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(mapping->matching, InputMatching::kByConfigOrder);
  EXPECT_THAT(mapping->argument_to_input, ElementsAre(0, 1));
}

TEST(MapInputsTest, CountMismatchIsInvalidArgument) {
  absl::StatusOr<InputMapping> mapping = MapInputs(Names{"x"}, Names{"a", "b"});
  EXPECT_EQ(mapping.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mapping.status().message(), HasSubstr("forward() takes 1 arguments (x)"));
  EXPECT_THAT(mapping.status().message(), HasSubstr("2 inputs (a, b)"));
}

TEST(MapOutputPositionsTest, ConventionOrConfigOrder) {
  EXPECT_THAT(MapOutputPositions(Names{"OUTPUT__1", "OUTPUT__0"}), ElementsAre(1, 0));
  EXPECT_THAT(MapOutputPositions(Names{"sum", "product"}), ElementsAre(0, 1));
  EXPECT_THAT(MapOutputPositions(Names{"OUT__0", "OUT__0"}), ElementsAre(0, 1));
}

}  // namespace
}  // namespace sonic::backends::pytorch
