#include "demonstrator/job/job_validation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sonic::demo {
namespace {

MlProduct Scores(std::vector<std::vector<float>> values) {
  MlProduct product;
  product.objects = "ak4 jets";
  product.quantities["scores"] = std::move(values);
  return product;
}

ProductStore Store(const MlProduct& product) { return {{"pn", {{7, product}}}}; }

TEST(JobValidationTest, EqualProductsPass) {
  const ProductStore store = Store(Scores({{0.25f, 0.75f}, {1.0f}}));
  Validation validation = Validate(store, store, InferenceMode::kDirect, 1e-5, 1);
  ASSERT_EQ(validation.quantities.size(), 1u);
  const QuantityComparison& row = validation.quantities[0];
  EXPECT_EQ(row.module, "pn");
  EXPECT_EQ(row.objects, "ak4 jets");
  EXPECT_EQ(row.quantity, "scores");
  EXPECT_EQ(row.objects_compared, 2u);
  EXPECT_EQ(row.values_compared, 3u);
  EXPECT_EQ(row.largest_difference, 0);
  EXPECT_TRUE(validation.passed());
}

TEST(JobValidationTest, DifferencesAreRelativeAndJudgedByTheTolerance) {
  const ProductStore measured = Store(Scores({{100.0f}}));
  const ProductStore reference = Store(Scores({{100.1f}}));
  Validation validation = Validate(measured, reference, InferenceMode::kDirect, 1e-2, 1);
  ASSERT_EQ(validation.quantities.size(), 1u);
  EXPECT_NEAR(validation.quantities[0].largest_difference, 0.1 / 100.1, 1e-6);
  EXPECT_TRUE(validation.passed());
  validation.tolerance = 1e-4;
  EXPECT_FALSE(validation.passed());
}

TEST(JobValidationTest, MissingAndResizedObjectsAreMismatched) {
  const ProductStore measured = Store(Scores({{1.0f, 2.0f}, {3.0f}, {4.0f}}));
  const ProductStore reference = Store(Scores({{1.0f}, {3.0f}}));
  Validation validation = Validate(measured, reference, InferenceMode::kSonic, 1, 1);
  ASSERT_EQ(validation.quantities.size(), 1u);
  // One object more in the measured run, one whose value count differs.
  EXPECT_EQ(validation.quantities[0].mismatched_objects, 2u);
  EXPECT_FALSE(validation.passed());
  // An event the reference does not have: all its objects.
  validation = Validate(measured, ProductStore(), InferenceMode::kSonic, 1, 1);
  EXPECT_EQ(validation.quantities[0].mismatched_objects, 3u);
}

TEST(JobValidationTest, NanNeverPassesAndNothingComparedFails) {
  const ProductStore measured = Store(Scores({{std::nanf("")}}));
  const ProductStore reference = Store(Scores({{1.0f}}));
  EXPECT_FALSE(Validate(measured, reference, InferenceMode::kDirect, 1e9, 1).passed());
  EXPECT_FALSE(Validate({}, {}, InferenceMode::kDirect, 1, 0).passed());
}

}  // namespace
}  // namespace sonic::demo
