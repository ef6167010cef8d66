#include "sonic/client/client_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sonic::client {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ClientErrorTest, CategoryFollowsTheCodeOfAPlainStatus) {
  EXPECT_EQ(GetErrorCategory(absl::OkStatus()), ErrorCategory::kNone);
  EXPECT_EQ(GetErrorCategory(absl::UnavailableError("x")), ErrorCategory::kServerUnavailable);
  EXPECT_EQ(GetErrorCategory(absl::ResourceExhaustedError("x")),
            ErrorCategory::kServerUnavailable);
  EXPECT_EQ(GetErrorCategory(absl::DeadlineExceededError("x")), ErrorCategory::kTimeout);
  EXPECT_EQ(GetErrorCategory(absl::InvalidArgumentError("x")), ErrorCategory::kBadInput);
  EXPECT_EQ(GetErrorCategory(absl::FailedPreconditionError("x")), ErrorCategory::kBadInput);
  EXPECT_EQ(GetErrorCategory(absl::NotFoundError("x")), ErrorCategory::kModelError);
  EXPECT_EQ(GetErrorCategory(absl::InternalError("x")), ErrorCategory::kModelError);
}

TEST(ClientErrorTest, RetryAdviceAgreesWithTheCommonLibrary) {
  for (const absl::Status& status :
       {absl::UnavailableError("x"), absl::DeadlineExceededError("x"),
        absl::InvalidArgumentError("x"), absl::InternalError("x"), absl::NotFoundError("x")}) {
    EXPECT_EQ(MayRetry(status), IsRetryable(status)) << status;
  }
}

TEST(ClientErrorTest, AnExplicitCategoryWinsOverTheCode) {
  absl::Status status = MakeClientError(absl::StatusCode::kFailedPrecondition,
                                        ErrorCategory::kModelError, "config differs");
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kModelError);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), EndsWith("[model error; retrying will not help]"));
}

TEST(ClientErrorTest, ClassifyAddsContextAndHintOnce) {
  absl::Status first = ClassifyError(absl::UnavailableError("connection refused"), "model 'm'");
  EXPECT_THAT(std::string(first.message()), StartsWith("model 'm': connection refused"));
  EXPECT_THAT(std::string(first.message()), EndsWith("[server unavailable; retry may help]"));
  absl::Status second = ClassifyError(first, "outer");
  EXPECT_THAT(std::string(second.message()), StartsWith("outer: model 'm'"));
  EXPECT_EQ(std::string(second.message()).find("retry may help"),
            std::string(second.message()).rfind("retry may help"));
  EXPECT_EQ(GetErrorCategory(second), ErrorCategory::kServerUnavailable);
  EXPECT_TRUE(ClassifyError(absl::OkStatus(), "x").ok());
}

TEST(ClientErrorTest, NamesAreReadable) {
  EXPECT_EQ(ErrorCategoryName(ErrorCategory::kTimeout), "timeout");
  EXPECT_EQ(ErrorCategoryName(ErrorCategory::kBadInput), "bad input");
  EXPECT_THAT(std::string(ErrorCategoryName(ErrorCategory::kServerUnavailable)),
              HasSubstr("unavailable"));
}

}  // namespace
}  // namespace sonic::client
