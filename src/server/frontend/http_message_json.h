// Protobuf messages (model config, statistics) as the JSON Triton's HTTP endpoint writes:
// protobuf's JSON mapping with the .proto field names ("max_batch_size"), every scalar field
// printed, and 64-bit integers as JSON numbers rather than protobuf's strings.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"

namespace sonic::server {

// INTERNAL when protobuf cannot print the message (never for a valid message).
absl::StatusOr<std::string> MessageToTritonJson(const google::protobuf::Message& message);

}  // namespace sonic::server
