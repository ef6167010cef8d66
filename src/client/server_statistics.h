// The difference of two ModelStatistics snapshots of one model, as ServerSideStatistics.
// Counters that went backwards (a server restarted) count from zero. Pure; thread-safe.
#pragma once

#include "inference/grpc_service.pb.h"
#include "sonic/client/client_statistics.h"

namespace sonic::client::internal {

ServerSideStatistics DiffServerStatistics(const inference::ModelStatistics& before,
                                          const inference::ModelStatistics& after);

}  // namespace sonic::client::internal
