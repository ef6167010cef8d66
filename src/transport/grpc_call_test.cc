#include "grpc_call.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sonic::transport {
namespace {

TEST(FromGrpcTest, KeepsCodeAndMessage) {
  EXPECT_TRUE(FromGrpc(grpc::Status::OK).ok());
  EXPECT_TRUE(FromGrpc(grpc::Status::OK, "ModelInfer").ok());
  absl::Status status = FromGrpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "connect failed");
  status = FromGrpc(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"), "ModelInfer");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "ModelInfer: queue full");
  EXPECT_EQ(FromGrpc(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "")).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(SetTimeoutTest, InfiniteLeavesNoDeadline) {
  grpc::ClientContext context;
  const auto before = context.deadline();
  SetTimeout(context, absl::InfiniteDuration());
  EXPECT_EQ(context.deadline(), before);
  EXPECT_EQ(before, std::chrono::system_clock::time_point::max());
}

TEST(SetTimeoutTest, FiniteSetsADeadlineThatFar) {
  grpc::ClientContext context;
  const auto earliest = std::chrono::system_clock::now() + std::chrono::seconds(5);
  SetTimeout(context, absl::Seconds(5));
  const auto latest = std::chrono::system_clock::now() + std::chrono::seconds(5);
  EXPECT_GE(context.deadline(), earliest);
  EXPECT_LE(context.deadline(), latest);
}

}  // namespace
}  // namespace sonic::transport
