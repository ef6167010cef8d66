// Helpers of the client integration tests: clients on a test server, waiting for a dispatch,
// filling and reading FP32 tensors, and an address where nothing listens.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "integration_test_util.h"
#include "sonic/client/client_error.h"
#include "sonic/client/triton_client.h"

namespace sonic::testing {

// Generous: the tests assert outcomes, never durations.
inline constexpr absl::Duration kDispatchWait = absl::Seconds(60);

// Options for `model` on `server` in `mode`.
client::TritonClient::Options ClientOptions(const TestServer& server, const std::string& model,
                                            client::SonicMode mode = client::SonicMode::kAsync);

// dispatch() and wait for the callback; DEADLINE_EXCEEDED if it does not come within
// kDispatchWait (a hung client), INTERNAL if it is called more than once.
absl::Status DispatchAndWait(client::TritonClient& client);

// Sets the batch size, one shape per entry (the input's variable dims follow `rows[i]`'s size
// when the input has dims [-1]), and sends `rows` to input `name`.
absl::Status SendFp32(client::TritonClient& client, const std::string& name,
                      const std::vector<std::vector<float>>& rows);

// The entries of FP32 output `name` as vectors (copies, for comparisons).
absl::StatusOr<std::vector<std::vector<float>>> ReadFp32(const client::TritonClient& client,
                                                         const std::string& name);

// "127.0.0.1:PORT" for a loopback port that was free a moment ago and has no listener (bound,
// then closed): connections to it are refused.
std::string UnusedAddress();

}  // namespace sonic::testing
